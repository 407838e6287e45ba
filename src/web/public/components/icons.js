// A handful of line icons, drawn inline so they take the text colour. Always
// decorative (aria-hidden): every button that shows one also has words.
import { html } from 'htm/preact';

/** @param {string} d @param {string} [extra] */
const icon = (d, extra = '') => () => html`<svg class="icon" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d=${d} />${extra ? html`<path d=${extra} />` : null}</svg>`;

export const CopyIcon = icon('M9 9h10v10H9z', 'M5 15V5h10');
export const CheckIcon = icon('M5 12l5 5L20 7');
export const MenuIcon = icon('M4 6h16M4 12h16M4 18h16');
export const CloseIcon = icon('M6 6l12 12M18 6L6 18');
export const KeyIcon = icon('M15 7a4 4 0 1 1-3.9 4.9L4 19v-3h3v-3h3l1.1-1.1A4 4 0 0 1 15 7z');
export const GlobeIcon = icon('M12 3a9 9 0 1 0 0 18a9 9 0 0 0 0-18z', 'M3 12h18M12 3c3 3.5 3 14.5 0 18M12 3c-3 3.5-3 14.5 0 18');
export const InboxIcon = icon('M4 13l3-8h10l3 8v6H4z', 'M4 13h5l1 2h4l1-2h5');
export const BlockIcon = icon('M12 3a9 9 0 1 0 0 18a9 9 0 0 0 0-18z', 'M5.6 5.6l12.8 12.8');
export const HookIcon = icon('M10 14a4 4 0 1 1 4-4v4a4 4 0 1 0 4 4', 'M6 18h4');
export const ChartIcon = icon('M4 20V4M4 20h16', 'M8 16v-5M12 16V8M16 16v-3');
export const UsersIcon = icon('M9 11a4 4 0 1 0 0-8a4 4 0 0 0 0 8zM2 21c0-4 3-6 7-6s7 2 7 6', 'M17 11a3 3 0 1 0 0-6M22 21c0-3-2-5-5-5.5');
export const UserIcon = icon('M12 12a4 4 0 1 0 0-8a4 4 0 0 0 0 8z', 'M4 21c0-4 4-7 8-7s8 3 8 7');
export const LogoutIcon = icon('M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10');
export const PulseIcon = icon('M3 12h4l3-7 4 14 3-7h4');
export const RouteIcon = icon('M6 19a2 2 0 1 0 0-4a2 2 0 0 0 0 4zM18 9a2 2 0 1 0 0-4a2 2 0 0 0 0 4z', 'M6 15V9a4 4 0 0 1 4-4h6M18 9v6a4 4 0 0 1-4 4H8');
export const RefreshIcon = icon('M20 11a8 8 0 1 0-2.3 5.7', 'M20 4v7h-7');
export const ArrowLeftIcon = icon('M19 12H5M11 6l-6 6 6 6');
export const WarnIcon = icon('M12 3l10 18H2z', 'M12 10v5M12 18h.01');
export const HomeIcon = icon('M4 11l8-7 8 7v9H4z', 'M10 20v-6h4v6');
export const BookIcon = icon('M5 4h11a3 3 0 0 1 3 3v13H8a3 3 0 0 1-3-3z', 'M5 17a3 3 0 0 1 3-3h11');
export const InfoIcon = icon('M12 3a9 9 0 1 0 0 18a9 9 0 0 0 0-18z', 'M12 11v6M12 7.5h.01');

export const Logo = () => html`<svg class="logo-mark" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false"><rect width="32" height="32" rx="8" fill="currentColor" /><path d="M8 11.5l8 5.5 8-5.5M8 10h16v12H8z" fill="none" stroke="#fff" stroke-width="2" stroke-linejoin="round" /></svg>`;
