/**
 * The message Gmail sends when someone adds an address under "Send mail as":
 * from forwarding-noreply@google.com, subject "(#code) Gmail Confirmation -
 * Send Mail as …", multipart/alternative with quoted-printable text and HTML
 * parts. Quoted-printable splits the long vf- link across soft line breaks
 * (and encodes its '=' and '%'), so finding it needs real MIME decoding.
 * The uf- link beside it cancels the request and must never be offered.
 */
export const GMAIL_CODE = '519043872';
export const GMAIL_LINK = 'https://mail-settings.google.com/mail/vf-%5BANGjdJ9zS5m0qHfRcWvT1aY8xKp3LuNe7dBiGo4Ql2%5D-Hk3wTqRZ1vYb8xNc5mLpE0sUa9oJ7gFd';
export const GMAIL_CANCEL_LINK = 'https://mail-settings.google.com/mail/uf-%5BANGjdJ9zS5m0qHfRcWvT1aY8xKp3LuNe7dBiGo4Ql2%5D-Hk3wTqRZ1vYb8xNc5mLpE0sUa9oJ7gFd';

/** Quoted-printable as Gmail writes it: '=' as =3D, lines at most 76 characters with soft breaks. */
function quotedPrintable(text: string): string {
  return text.split('\n').map((line) => {
    const encoded = line.replace(/=/g, '=3D');
    const pieces: string[] = [];
    let rest = encoded;
    while (rest.length > 75) {
      let cut = 75;
      // Never split an =XX escape.
      if (rest[cut - 1] === '=') cut -= 1;
      else if (rest[cut - 2] === '=') cut -= 2;
      pieces.push(`${rest.slice(0, cut)}=`);
      rest = rest.slice(cut);
    }
    pieces.push(rest);
    return pieces.join('\r\n');
  }).join('\r\n');
}

export function gmailConfirmation(alias: string, gmailUser = 'jane.doe.1987@gmail.com'): string {
  const text = [
    `You have requested to add ${alias} to your Gmail account.`,
    `Confirmation code: ${GMAIL_CODE}`,
    '',
    `Before you can send mail from ${alias} using your Gmail account (${gmailUser}), please click the link below to confirm your request:`,
    '',
    GMAIL_LINK,
    '',
    'If you click the link and it appears to be broken, please copy and paste it into a new browser window. If you aren\'t able to access the link, you can enter the confirmation code in the Gmail window that asked for it.',
    '',
    'Thanks for using Gmail!',
    '',
    'Sincerely,',
    '',
    'The Gmail Team',
    '',
    `If you did not make this request or don't want to add this email address to your Gmail account, no further action is required. ${alias} cannot send messages using your address unless you confirm the request by clicking the link above. If you accidentally clicked the link, but you do not want to allow ${alias} to send messages using your address, click this link to cancel this verification:`,
    GMAIL_CANCEL_LINK,
  ].join('\n');
  const html = [
    '<div dir="ltr">',
    `<p>You have requested to add <b>${alias}</b> to your Gmail account.<br>Confirmation code: ${GMAIL_CODE}</p>`,
    `<p>Before you can send mail from ${alias} using your Gmail account (${gmailUser}), please click the link below to confirm your request:</p>`,
    `<p><a href="${GMAIL_LINK}">${GMAIL_LINK}</a></p>`,
    '<p>Thanks for using Gmail!</p><p>Sincerely,<br>The Gmail Team</p>',
    `<p>If you did not make this request, click this link to cancel this verification: <a href="${GMAIL_CANCEL_LINK}">${GMAIL_CANCEL_LINK}</a></p>`,
    '</div>',
  ].join('\n');
  return [
    'Received: by mail-sor-f69.google.com with SMTP id 5b1f17b1804b1-43cf3168b87so10384655e9.2',
    `        for <${alias}>; Mon, 07 Dec 2026 14:02:11 -0800 (PST)`,
    'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=google.com; s=20230601; t=1796680931; x=1797285731;',
    '        h=to:from:subject:message-id:date:mime-version:from:to:cc:subject;',
    '        bh=k4jMBBwpWh1xnq6aL4MhC4yTgG0dCk1H9x1sX1VqJ3Q=; b=Qm9ndXMgc2lnbmF0dXJlIGZvciB0ZXN0cyBvbmx5',
    'MIME-Version: 1.0',
    'Date: Mon, 07 Dec 2026 14:02:11 -0800',
    'Message-ID: <0000000000004fa3e2060a1b2c3d@google.com>',
    `Subject: (#${GMAIL_CODE}) Gmail Confirmation - Send Mail as ${alias}`,
    'From: Gmail Team <forwarding-noreply@google.com>',
    `To: ${alias}`,
    'Content-Type: multipart/alternative; boundary="0000000000004fa3d9060a1b2c3d"',
    '',
    '--0000000000004fa3d9060a1b2c3d',
    'Content-Type: text/plain; charset="UTF-8"',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    quotedPrintable(text),
    '',
    '--0000000000004fa3d9060a1b2c3d',
    'Content-Type: text/html; charset="UTF-8"',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    quotedPrintable(html),
    '',
    '--0000000000004fa3d9060a1b2c3d--',
    '',
  ].join('\r\n');
}
