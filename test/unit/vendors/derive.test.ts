import { expect } from 'chai';
import {
  dialableNumbers,
  dstRule,
  emergencyInfo,
  formatOffsetHours,
  hotdeskKey,
  placeLabel,
  splitHostPort,
  urlParts,
  urlWithCredentials,
  utcOffsetMinutes,
  zoneOffset,
} from '../../../vendors/derive.js';
import { sampleDeviceView } from '../../fixtures/sample-view.js';

describe('derived view values', () => {
  it('UTC offsets from Intl, standard offset and DST per zone', () => {
    expect(utcOffsetMinutes('America/New_York', new Date('2024-01-15T12:00:00Z'))).to.equal(-300);
    expect(utcOffsetMinutes('America/New_York', new Date('2024-07-15T12:00:00Z'))).to.equal(-240);
    expect(utcOffsetMinutes('UTC', new Date())).to.equal(0);
    expect(utcOffsetMinutes('Not/AZone', new Date())).to.equal(null);
    expect(zoneOffset('America/New_York', 2024)).to.deep.equal({ standardMinutes: -300, observesDst: true });
    expect(zoneOffset('Europe/Berlin', 2024)).to.deep.equal({ standardMinutes: 60, observesDst: true });
    expect(zoneOffset('Australia/Sydney', 2024)).to.deep.equal({ standardMinutes: 600, observesDst: true });
    expect(zoneOffset('Asia/Kolkata', 2024)).to.deep.equal({ standardMinutes: 330, observesDst: false });
    expect(zoneOffset('Asia/Kathmandu', 2024)).to.deep.equal({ standardMinutes: 345, observesDst: false });
    expect(zoneOffset('America/St_Johns', 2024)).to.deep.equal({ standardMinutes: -210, observesDst: true });
    expect(zoneOffset('Etc/UTC', 2024)).to.deep.equal({ standardMinutes: 0, observesDst: false });
    expect(zoneOffset('Not/AZone', 2024)).to.deep.equal({ standardMinutes: 0, observesDst: false });
  });

  it('summer-time rules from Intl: the change dates and wall-clock hours, both hemispheres', () => {
    const sunday = (month: number, day: number, week: number, last: boolean, hour: number) => ({ month, day, weekday: 0, week, last, hour });
    expect(dstRule('America/New_York', 2026)).to.deep.equal({ start: sunday(3, 8, 2, false, 2), stop: sunday(11, 1, 1, false, 2), savingMinutes: 60 });
    expect(dstRule('Europe/Berlin', 2026)).to.deep.equal({ start: sunday(3, 29, 5, true, 2), stop: sunday(10, 25, 4, true, 3), savingMinutes: 60 });
    // The 28th of a 31-day month is the last Sunday, though the fourth too.
    expect(dstRule('Europe/London', 2027)).to.deep.equal({ start: sunday(3, 28, 4, true, 1), stop: sunday(10, 31, 5, true, 2), savingMinutes: 60 });
    expect(dstRule('Australia/Sydney', 2026)).to.deep.equal({ start: sunday(10, 4, 1, false, 2), stop: sunday(4, 5, 1, false, 3), savingMinutes: 60 });
    // Santiago changes at Saturday's midnight: Sunday 00:00 on the wall clock.
    expect(dstRule('America/Santiago', 2026)).to.deep.equal({ start: sunday(9, 6, 1, false, 0), stop: sunday(4, 5, 1, false, 0), savingMinutes: 60 });
    expect(dstRule('Australia/Lord_Howe', 2026)?.savingMinutes).to.equal(30);
    for (const zone of ['Asia/Tokyo', 'Etc/UTC', 'America/Sao_Paulo', 'Not/AZone']) expect(dstRule(zone, 2026), zone).to.equal(null);
  });

  it('Yealink offset format', () => {
    expect([-300, 60, 0, 330, 345, -210, 840].map(formatOffsetHours)).to.deep.equal(['-5', '+1', '0', '+5:30', '+5:45', '-3:30', '+14']);
  });

  it('place label: device label and location name, either alone, else MAC', () => {
    expect(placeLabel(sampleDeviceView('unassigned'))).to.equal('Desk 4.12 - HQ 4th floor');
    expect(placeLabel(sampleDeviceView('unassigned', { location: null }))).to.equal('Desk 4.12');
    expect(placeLabel(sampleDeviceView('unassigned', { device: { label: null } }))).to.equal('HQ 4th floor');
    expect(placeLabel(sampleDeviceView('unassigned', { device: { label: null }, location: null }))).to.equal('001565aabbcc');
  });

  it('hot-desk key per state', () => {
    expect(hotdeskKey(sampleDeviceView('unassigned'))?.label).to.equal('Login');
    expect(hotdeskKey(sampleDeviceView('owner'))?.label).to.equal('Login');
    expect(hotdeskKey(sampleDeviceView('guest'))).to.deep.include({ label: 'Logout' });
    expect(hotdeskKey(sampleDeviceView('owner', { hotdesk: { enabled: false } }))).to.equal(null);
    // A guest keeps the way out even if hot desking was switched off during the session.
    expect(hotdeskKey(sampleDeviceView('guest', { hotdesk: { enabled: false } }))?.label).to.equal('Logout');
  });

  it('emergency numbers: only dialable ones, no duplicates', () => {
    expect(dialableNumbers(['911', ' 112 ', '911', '9-1-1', '', '*55', 'x', '1'.repeat(21)])).to.deep.equal(['911', '112', '*55']);
    expect(emergencyInfo(sampleDeviceView('unassigned'))).to.deep.equal({ numbers: ['911', '112'], list: '911,112', callback: '+15551230000', user: '+15551230000' });
    expect(emergencyInfo(sampleDeviceView('unassigned', { location: { callbackNumber: null } }))?.user).to.equal('emergency');
    expect(emergencyInfo(sampleDeviceView('unassigned', { location: null }))).to.equal(null);
    expect(emergencyInfo(sampleDeviceView('unassigned', { location: { emergencyNumbers: ['bad'] } }))).to.equal(null);
  });

  it('host and port of an outbound proxy', () => {
    expect(splitHostPort(null)).to.equal(null);
    expect(splitHostPort('proxy.example.com')).to.deep.equal({ host: 'proxy.example.com', port: null });
    expect(splitHostPort('proxy.example.com:5070')).to.deep.equal({ host: 'proxy.example.com', port: 5070 });
    expect(splitHostPort('sip:10.0.0.1:5070;transport=tcp')).to.deep.equal({ host: '10.0.0.1', port: 5070 });
    expect(splitHostPort('sip:user@10.0.0.1')).to.deep.equal({ host: '10.0.0.1', port: null });
    expect(splitHostPort('[2001:db8::1]:5060')).to.deep.equal({ host: '[2001:db8::1]', port: 5060 });
    expect(splitHostPort('host:99999')).to.equal(null);
    expect(splitHostPort('a b')).to.equal(null);
    expect(splitHostPort('')).to.equal(null);
  });

  it('provisioning URL pieces', () => {
    expect(urlParts('https://prov.example.com/')).to.deep.equal({ scheme: 'https', hostAndPath: 'prov.example.com' });
    expect(urlParts('http://10.0.0.5:8080/deskprov/')).to.deep.equal({ scheme: 'http', hostAndPath: '10.0.0.5:8080/deskprov' });
    expect(urlWithCredentials('https://prov.example.com/', 'u@x', 'p:w/d')).to.equal('https://u%40x:p%3Aw%2Fd@prov.example.com/');
    expect(urlWithCredentials('https://prov.example.com/', null, null)).to.equal('https://prov.example.com/');
  });
});
