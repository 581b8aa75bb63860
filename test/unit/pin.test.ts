import { expect } from 'chai';
import { hashPin, validatePin, verifyPin, PIN_MAX_LENGTH } from '../../server/services/pin.js';

describe('pin', () => {
  describe('validatePin', () => {
    it('accepts digits between the minimum and 12', () => {
      expect(validatePin('1234', 4)).to.equal(null);
      expect(validatePin('0000', 4)).to.equal(null);
      expect(validatePin('1'.repeat(PIN_MAX_LENGTH), 4)).to.equal(null);
      expect(validatePin('123456', 6)).to.equal(null);
    });
    it('refuses non-digits', () => {
      for (const pin of ['12a4', '12 34', ' 1234', '1234\n', '-123', '１２３４', '12.4', '٣٣٣٣']) {
        expect(validatePin(pin, 4), JSON.stringify(pin)).to.match(/digits only/);
      }
    });
    it('refuses too short and too long', () => {
      expect(validatePin('', 4)).to.match(/at least 4/);
      expect(validatePin('123', 4)).to.match(/at least 4/);
      expect(validatePin('12345', 6)).to.match(/at least 6/);
      expect(validatePin('1'.repeat(13), 4)).to.match(/at most 12/);
    });
  });

  describe('hashPin / verifyPin', () => {
    it('encodes scrypt$N$r$p$salt$hash with a fresh salt each time', async () => {
      const [a, b] = await Promise.all([hashPin('1234'), hashPin('1234')]);
      expect(a).to.match(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
      expect(a).to.not.equal(b);
    });
    it('verifies the right PIN and refuses a wrong one', async () => {
      const stored = await hashPin('482913');
      expect(await verifyPin('482913', stored)).to.equal(true);
      expect(await verifyPin('482914', stored)).to.equal(false);
      expect(await verifyPin('', stored)).to.equal(false);
      expect(await verifyPin('4829130', stored)).to.equal(false);
    });
    it('returns false, never throws, on a malformed stored value', async () => {
      const good = await hashPin('1234');
      const parts = good.split('$');
      const swap = (i: number, v: string) => parts.map((p, j) => (j === i ? v : p)).join('$');
      const bad = [
        '', 'scrypt', '1234', 'plain$text', good.slice(0, -5), `${good}$extra`, good.replace('scrypt', 'bcrypt'),
        swap(1, '0'), swap(1, '1000'), swap(1, '16385'), swap(1, String(2 ** 30)), swap(1, String(2 ** 20)), swap(1, '-16384'), swap(1, '1e4'),
        swap(2, '0'), swap(2, '999'), swap(3, 'x'), swap(3, '99'),
        swap(4, ''), swap(4, '!!!'), swap(4, 'AA'), swap(5, ''), swap(5, 'not base64!'), swap(5, 'AAAA'),
      ];
      for (const stored of bad) expect(await verifyPin('1234', stored), stored).to.equal(false);
    });
    it('verifies a hash made with other (still bounded) parameters', async () => {
      const stored = await hashPin('1234');
      const [, , , , salt] = stored.split('$');
      // Hashes stored under older or retuned parameters keep verifying.
      const { scryptSync } = await import('node:crypto');
      const key = scryptSync('1234', Buffer.from(salt ?? '', 'base64'), 32, { N: 1024, r: 8, p: 1 }).toString('base64');
      expect(await verifyPin('1234', `scrypt$1024$8$1$${salt}$${key}`)).to.equal(true);
      expect(await verifyPin('4321', `scrypt$1024$8$1$${salt}$${key}`)).to.equal(false);
    });
  });
});
