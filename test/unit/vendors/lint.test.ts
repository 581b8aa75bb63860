import { expect } from 'chai';
import { getVendor } from '../../../vendors/registry.js';
import type { VendorAdapter } from '../../../vendors/vendor.js';

const yealink = getVendor('yealink') as VendorAdapter;
const device = yealink.templates.find((t) => t.name === 'device')!;
const lint = (text: string) => yealink.lint(text, device);

describe('Yealink lint', () => {
  it('accepts a version line, comments, blank lines and key = value lines (CRLF too)', () => {
    expect(lint('#!version:1.0.0.1\n## title\n\naccount.1.enable = 1\nlocal_time.time_zone=+1\n')).to.deep.equal([]);
    expect(lint('#!version:1.0.0.1\r\naccount.1.label = A B = C\r\n')).to.deep.equal([]);
  });

  it('accepts boot-file include lines', () => {
    const boot = yealink.templates.find((t) => t.name === 'boot')!;
    expect(yealink.lint('#!version:1.0.0.1\ninclude:config "http://prov.example.com/y000000000108.cfg"\noverwrite_mode = 1\n', boot)).to.deep.equal([]);
  });

  it('wants the version line first, exactly', () => {
    expect(lint('account.1.enable = 1\n')[0]).to.deep.equal({ line: 1, reason: 'first line must be exactly "#!version:1.0.0.1"' });
    expect(lint(' #!version:1.0.0.1\n')[0]?.line).to.equal(1);
    expect(lint('')[0]?.line).to.equal(1);
  });

  it('reports bad lines with their numbers', () => {
    const problems = lint('#!version:1.0.0.1\nok.key = 1\njust text\n  indented.key = 1\nbad-key = 1\n= 1\nok.key = 2\nx = a\rb\n');
    expect(problems.map((p) => p.line)).to.deep.equal([3, 4, 5, 6, 7, 8]);
    expect(problems[4]?.reason).to.equal('"ok.key" is already set on line 2');
    expect(problems[5]?.reason).to.match(/carriage return/);
  });
});
