/**
 * Finds the confirmation code and link in mail caught for a "receive here"
 * address, so the dashboard can offer them to copy. Conservative on purpose:
 * a wrong code shown as "the code" is worse than none (the whole message is
 * shown anyway), so each row of the table is narrow and sender-specific rows
 * come before the generic ones. A code must hold a digit; a generic link must
 * say verify/confirm/activate and be https.
 */

export interface Extracted {
  code: string | null;
  link: string | null;
}

interface Pattern {
  /** What it is for, named in tests. */
  name: string;
  /** Applies only to mail from such an envelope or header sender; absent: any sender. */
  from?: RegExp;
  /** Group 1 is the code; the first match holding a digit counts (global flag). */
  code?: RegExp;
  /** The whole match is the link. */
  link?: RegExp;
}

export const PATTERNS: readonly Pattern[] = [
  // Gmail's "Send mail as": "Confirmation code: 123456789" and a mail-settings.google.com/mail/vf-… link
  // (the uf-… link beside it cancels the request, and must never be offered).
  {
    name: 'gmail-send-mail-as',
    from: /@google\.com$/i,
    code: /Confirmation code:\s*(\d{6,12})\b/gi,
    link: /https:\/\/mail-settings\.google\.com\/mail\/vf-[^\s"'<>]+/i,
  },
  // "Your verification code: 123456", "Code: 4821-7730", "your code is 839201"
  { name: 'generic-code', code: /\bcode\s*(?:is\s*:?|:)\s*([A-Z0-9](?:[A-Z0-9-]{2,14}[A-Z0-9]))\b/gi },
  // The first https link that says what it does: verify, confirm, activate, validate.
  { name: 'generic-link', link: /https:\/\/[^\s"'<>]*(?:verif|confirm|activat|validat)[^\s"'<>]*/i },
];

/** `text`: the message's text (its plain part, or its HTML as text, plus the HTML's hrefs). */
export function extractConfirmation(text: string, senders: readonly string[]): Extracted {
  let code: string | null = null;
  let link: string | null = null;
  for (const pattern of PATTERNS) {
    if (pattern.from && !senders.some((sender) => pattern.from!.test(sender))) continue;
    if (code === null && pattern.code) {
      code = [...text.matchAll(pattern.code)].map((match) => match[1]).find((candidate) => /\d/.test(candidate)) ?? null;
    }
    if (link === null && pattern.link) {
      const match = pattern.link.exec(text);
      if (match) link = trimLink(match[0]);
    }
  }
  return { code, link };
}

/** A link at the end of a sentence or in brackets carries that punctuation; it is not part of the URL. */
function trimLink(link: string): string {
  return link.replace(/[.,;:!?)\]}]+$/, '');
}
