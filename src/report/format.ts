/** Text formatting for the report: HTML escaping and numbers as a reader expects them. */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for use in HTML content and attribute values. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** Markup shown wherever a value the report expects is missing. */
export const NOT_AVAILABLE = '<span class="na">not available</span>';

/** Formats an integer with thousands separators: 50000 → "50,000". */
export function formatInteger(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NOT_AVAILABLE;
  return Math.round(value).toLocaleString('en-US');
}

/**
 * Formats a number with `digits` significant digits, switching to exponent notation for very small
 * or large magnitudes, so that 1e-5 and 12345.678 both stay readable.
 */
export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined) return NOT_AVAILABLE;
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6 || magnitude < 1e-3) return value.toExponential(digits - 1);
  if (Number.isInteger(value) && magnitude < 1e6) return value.toLocaleString('en-US');
  return Number(value.toPrecision(digits)).toLocaleString('en-US', { maximumSignificantDigits: digits });
}

/** Formats a fraction in [0, 1] as a percentage: 0.8731 → "87.3%". */
export function formatPercent(value: number | null | undefined, decimals = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NOT_AVAILABLE;
  return `${(value * 100).toFixed(decimals)}%`;
}

/** Formats a byte count in binary units: 1536 → "1.5 KiB". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return NOT_AVAILABLE;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Formats a duration in seconds as "0.4 s", "12.3 s", "4 min 05 s" or "2 h 03 min". */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return NOT_AVAILABLE;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(Math.round(seconds - minutes * 60)).padStart(2, '0')} s`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${String(minutes - hours * 60).padStart(2, '0')} min`;
}

/** Formats a mean with its spread, "0.912 ± 0.021", leaving the spread out when it is missing. */
export function formatMeanSpread(mean: number | null | undefined, spread: number | null | undefined, digits = 3): string {
  if (mean === null || mean === undefined || !Number.isFinite(mean)) return NOT_AVAILABLE;
  const text = mean.toFixed(digits);
  if (spread === null || spread === undefined || !Number.isFinite(spread)) return text;
  return `${text} ± ${spread.toFixed(digits)}`;
}

/** Formats any JSON value as short escaped text: arrays joined, objects as compact JSON. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return NOT_AVAILABLE;
  if (typeof value === 'number') return formatNumber(value, 4);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return escapeHtml(value);
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) {
    return value.length === 0 ? 'none' : escapeHtml(value.map((v) => String(v)).join(', '));
  }
  return `<code>${escapeHtml(JSON.stringify(value))}</code>`;
}
