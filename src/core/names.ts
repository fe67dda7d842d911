/** DNS-label-like names for models, endpoints and aliases: 1–63 of [a-z0-9-], starting and ending alphanumeric. */
export const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

export const NAME_RULE = 'a DNS label: 1–63 lowercase letters, digits or "-", starting and ending with a letter or digit';
