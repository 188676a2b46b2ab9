/**
 * The socket-mode codec's 64-bit integer and ISO temporal conversions: text ⇄ epoch days, nanoseconds of a
 * day and UTC offsets. Pure functions; must not import anything but protobufjs types.
 */
import type protobuf from "protobufjs"

// ------------------------------------------------------------------------------------------- INTEGERS

const TWO_POW_32 = 4294967296
export const INTEGER_TEXT = /^-?(?:0|[1-9]\d*)$/
export const DECIMAL_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/

/** The JS number whose exact value is the integer `text`, or undefined when no double is exactly it. */
export const exactIntegerNumber = (text: string): number | undefined => {
  const n = Number(text)
  if (!Number.isInteger(n)) return undefined
  const canonical = Number.isSafeInteger(n) ? String(n) : BigInt(n).toString()
  return canonical === text ? n : undefined
}

/** A decimal text as a JS number when the number prints back as the same text, else the text itself. */
export const decimalValue = (text: string): number | string => {
  const n = Number(text)
  return String(n) === text ? n : text
}

/** Integer text as a JS number when a double holds it exactly, else the text itself. */
export const integerTextValue = (text: string): number | string => exactIntegerNumber(text) ?? text

/** A 64-bit integer read from the wire, as a JS number when a double holds it exactly, else decimal text. */
export const int64Value = (v: protobuf.Long | number): number | string => {
  if (typeof v === "number") return v
  const high = v.unsigned ? v.high >>> 0 : v.high | 0
  const low = v.low >>> 0
  if (high >= -0x200000 && high < 0x200000) return high * TWO_POW_32 + low
  return integerTextValue(((BigInt(high) << 32n) + BigInt(low)).toString())
}

/** For 64-bit fields that hold small magnitudes (days, seconds, nanoseconds of a day). */
export const int64Number = (v: protobuf.Long | number): number => Number(int64Value(v))

// ------------------------------------------------------------------------------------------ TEMPORALS

export const NANOS_PER_SECOND = 1_000_000_000
export const SECONDS_PER_DAY = 86_400
const NANOS_PER_DAY = SECONDS_PER_DAY * NANOS_PER_SECOND
const MAX_OFFSET_SECONDS = 18 * 3600

// Groups: date → year, month, day; time → hour, minute, second?, fraction?; offset → Z?, sign, hours, minutes, seconds?
const DATE = "([+-]\\d{4,6}|\\d{4})-(\\d{2})-(\\d{2})"
const TIME = "(\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d{1,9}))?)?"
const OFFSET = "(?:([Zz])|([+-])(\\d{1,2}):(\\d{2})(?::(\\d{2}))?)"
export const DATE_RE = new RegExp(`^${DATE}$`)
export const LOCAL_TIME_RE = new RegExp(`^${TIME}$`)
export const OFFSET_TIME_RE = new RegExp(`^${TIME}${OFFSET}$`)
export const LOCAL_TIMESTAMP_RE = new RegExp(`^${DATE}[Tt ]${TIME}$`)
export const OFFSET_TIMESTAMP_RE = new RegExp(`^${DATE}[Tt ]${TIME}${OFFSET}$`)

const isLeapYear = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
const daysInMonth = (y: number, m: number) => (m === 2 ? (isLeapYear(y) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31)

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
const epochDayOf = (year: number, month: number, day: number): number | undefined => {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468
}

const civilOf = (epochDay: number): readonly [number, number, number] => {
  const z = epochDay + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const month = mp < 10 ? mp + 3 : mp - 9
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, doy - Math.floor((153 * mp + 2) / 5) + 1]
}

/** The epoch day of the date in groups i..i+2 of a match. */
export const dateAt = (g: RegExpExecArray, i: number) => epochDayOf(Number(g[i]), Number(g[i + 1]), Number(g[i + 2]))

/** The nanoseconds since midnight of the time in groups i..i+3 of a match. */
export const timeAt = (g: RegExpExecArray, i: number): number | undefined => {
  const h = Number(g[i])
  const m = Number(g[i + 1])
  const s = Number(g[i + 2] ?? 0)
  if (h > 23 || m > 59 || s > 59) return undefined
  const fraction = g[i + 3]
  return ((h * 60 + m) * 60 + s) * NANOS_PER_SECOND + (fraction === undefined ? 0 : Number(fraction.padEnd(9, "0")))
}

/** The UTC offset in seconds of the offset in groups i..i+4 of a match. */
export const offsetAt = (g: RegExpExecArray, i: number): number | undefined => {
  if (g[i] !== undefined) return 0
  const m = Number(g[i + 3])
  const s = Number(g[i + 4] ?? 0)
  const total = Number(g[i + 2]) * 3600 + m * 60 + s
  if (m > 59 || s > 59 || total > MAX_OFFSET_SECONDS) return undefined
  return g[i + 1] === "-" ? -total : total
}

const pad = (n: number, width: number) => String(n).padStart(width, "0")
const formatYear = (y: number) => (y > 9999 ? `+${y}` : y < 0 ? `-${pad(-y, 4)}` : pad(y, 4))

export const formatDate = (epochDay: number): string => {
  const [y, m, d] = civilOf(epochDay)
  return `${formatYear(y)}-${pad(m, 2)}-${pad(d, 2)}`
}

export const formatTime = (nanosOfDay: number): string => {
  if (!(nanosOfDay >= 0 && nanosOfDay < NANOS_PER_DAY)) throw new RangeError(`time of day out of range: ${nanosOfDay} ns`)
  const seconds = Math.floor(nanosOfDay / NANOS_PER_SECOND)
  const nanos = nanosOfDay - seconds * NANOS_PER_SECOND
  const hms = `${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:${pad(seconds % 60, 2)}`
  return nanos === 0 ? hms : `${hms}.${pad(nanos, 9).replace(/0+$/, "")}`
}

export const formatOffset = (offsetSeconds: number): string => {
  if (Math.abs(offsetSeconds) > MAX_OFFSET_SECONDS) throw new RangeError(`UTC offset out of range: ${offsetSeconds} s`)
  if (offsetSeconds === 0) return "Z"
  const abs = Math.abs(offsetSeconds)
  const hm = `${offsetSeconds < 0 ? "-" : "+"}${pad(Math.floor(abs / 3600), 2)}:${pad(Math.floor(abs / 60) % 60, 2)}`
  return abs % 60 === 0 ? hm : `${hm}:${pad(abs % 60, 2)}`
}

export const formatInstant = (unixSeconds: number, nanos: number, offsetSeconds: number): string => {
  if (!(nanos >= 0 && nanos < NANOS_PER_SECOND)) throw new RangeError(`nanoseconds out of range: ${nanos}`)
  const local = unixSeconds + offsetSeconds
  const day = Math.floor(local / SECONDS_PER_DAY)
  const nanosOfDay = (local - day * SECONDS_PER_DAY) * NANOS_PER_SECOND + nanos
  return `${formatDate(day)}T${formatTime(nanosOfDay)}${formatOffset(offsetSeconds)}`
}
