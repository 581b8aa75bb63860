/**
 * The hot-desk screens a phone shows, per family: Yealink XML browser objects and XHTML pages
 * for the Polycom microbrowser (also used for vendors without an XML browser of their own).
 * Pure: every value is XML-escaped here, once.
 */
import { xmlEscape as x } from '../../vendors/escape.js';

export type ScreenFamily = 'yealink' | 'xhtml';

export interface Screen {
  contentType: string;
  body: string;
}

export function familyOf(vendor: string): ScreenFamily {
  return vendor === 'yealink' ? 'yealink' : 'xhtml';
}

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';
const yealink = (body: string): Screen => ({ contentType: 'text/xml; charset=utf-8', body: XML_HEAD + body });
const xhtml = (title: string, inner: string): Screen => ({
  contentType: 'application/xhtml+xml; charset=utf-8',
  body: `${XML_HEAD}<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head><title>${x(title)}</title></head>
<body>
<h3>${x(title)}</h3>
${inner}
</body>
</html>
`,
});

/** The login form; the phone submits `extension` and `pin` to `action`. */
export function loginScreen(family: ScreenFamily, action: string, label: string | null): Screen {
  return credentialsScreen(family, action, label ? `Hot desk login: ${label}` : 'Hot desk login', 'Log in');
}

/** Logging out without the key from the guest's own config: the guest's or the owner's extension and PIN. */
export function logoutPinScreen(family: ScreenFamily, action: string): Screen {
  return credentialsScreen(family, action, 'Log out: your extension and PIN', 'Log out');
}

function credentialsScreen(family: ScreenFamily, action: string, title: string, submit: string): Screen {
  if (family === 'yealink') {
    // The phone appends ?extension=..&pin=.. to URL and fetches it with GET.
    return yealink(`<YealinkIPPhoneInputScreen type="number" displayMode="normal" defaultIndex="1" destroyOnExit="yes">
<Title>${x(title)}</Title>
<URL>${x(action)}</URL>
<InputField type="number" password="no" editable="yes">
<Prompt>Extension:</Prompt>
<Parameter>extension</Parameter>
<Default></Default>
</InputField>
<InputField type="number" password="yes" editable="yes">
<Prompt>PIN:</Prompt>
<Parameter>pin</Parameter>
<Default></Default>
</InputField>
<SoftKey index="1"><Label>Back</Label><URI>SoftKey:BackSpace</URI></SoftKey>
<SoftKey index="2"><Label>Dot</Label><URI>SoftKey:Dot</URI></SoftKey>
<SoftKey index="3"><Label>Cancel</Label><URI>SoftKey:Exit</URI></SoftKey>
<SoftKey index="4"><Label>${x(submit)}</Label><URI>SoftKey:Submit</URI></SoftKey>
</YealinkIPPhoneInputScreen>
`);
  }
  return xhtml(title, `<form method="post" action="${x(action)}">
<p>Extension<br /><input type="text" name="extension" size="10" maxlength="32" /></p>
<p>PIN<br /><input type="password" name="pin" size="10" maxlength="12" /></p>
<p><input type="submit" value="${x(submit)}" /></p>
</form>`);
}

/** "Log out <who>?" with a confirm action (`k=<key>&confirm=yes`). */
export function logoutConfirmScreen(family: ScreenFamily, action: string, key: string, who: string): Screen {
  const confirmUrl = `${action}?k=${encodeURIComponent(key)}&confirm=yes`;
  if (family === 'yealink') {
    return yealink(`<YealinkIPPhoneTextMenu style="none" destroyOnExit="yes">
<Title>Log out ${x(who)}?</Title>
<MenuItem>
<Prompt>Yes, log out</Prompt>
<URI>${x(confirmUrl)}</URI>
</MenuItem>
<SoftKey index="1"><Label>Cancel</Label><URI>SoftKey:Exit</URI></SoftKey>
<SoftKey index="4"><Label>OK</Label><URI>SoftKey:Select</URI></SoftKey>
</YealinkIPPhoneTextMenu>
`);
  }
  return xhtml(`Log out ${who}?`, `<form method="post" action="${x(action)}">
<p><input type="hidden" name="k" value="${x(key)}" /><input type="hidden" name="confirm" value="yes" /><input type="submit" value="Log out" /></p>
</form>`);
}

/** A result or error message. */
export function messageScreen(family: ScreenFamily, title: string, text: string): Screen {
  if (family === 'yealink') {
    return yealink(`<YealinkIPPhoneTextScreen destroyOnExit="yes" Beep="no" Timeout="15">
<Title>${x(title)}</Title>
<Text>${x(text)}</Text>
</YealinkIPPhoneTextScreen>
`);
  }
  return xhtml(title, `<p>${x(text)}</p>`);
}
