/**
 * Dialled numbers as Flex tasks carry them (`outbound_to` may be what the agent typed) in the E.164 form the Calls
 * list uses (`to` / `from` are E.164 there). Without a country, a national number is read as North American
 * (+1): Flex's dialpad default; unconfirmed for other installations, where such numbers simply don't match.
 */
export function toE164(value: string): string | undefined {
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  const plus = trimmed.startsWith('+') || trimmed.startsWith('00');
  if (/[^\d\s().+-]/.test(trimmed)) return undefined; // sip:, client:, letters: not a phone number
  let digits = trimmed.replace(/\D/g, '');
  if (trimmed.startsWith('00')) digits = digits.slice(2);
  if (plus) return digits.length >= 8 && digits.length <= 15 ? `+${digits}` : undefined;
  if (digits.length === 10) return `+1${digits}`;
  if (digits.length === 11 && digits.startsWith('1')) return `+${digits}`;
  return undefined;
}
