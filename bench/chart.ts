/**
 * Renders benchmark results as a small self-contained SVG bar chart (records/s per scenario).
 */
interface ChartInput {
  readonly records: number
  readonly scenarios: ReadonlyArray<{ readonly name: string; readonly recordsPerSecond: number; readonly peakRssMb: number }>
  readonly ratios: { readonly socketOverStdio: number }
  /** Ceilings measured in the same run, drawn in grey below the scenarios. */
  readonly sourceAloneRecordsPerSecond?: number | undefined
  readonly baselines?: { readonly relayRecordsPerSecond: number; readonly socketRecordsPerSecond: number } | undefined
}

interface Bar {
  readonly name: string
  readonly recordsPerSecond: number
  readonly color: string
  readonly note: string
}

const escape = (text: string) => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")

export const renderChart = (input: ChartInput): string => {
  const width = 720
  const barHeight = 34
  const left = 200
  const top = 50
  const ceiling = (name: string, recordsPerSecond: number | undefined): ReadonlyArray<Bar> =>
    recordsPerSecond === undefined ? [] : [{ name, recordsPerSecond, color: "#adb5bd", note: "ceiling" }]
  const all: ReadonlyArray<Bar> = [
    ...input.scenarios.map((s): Bar => ({
      name: s.name,
      recordsPerSecond: s.recordsPerSecond,
      color: s.name.startsWith("socket") ? "#2b8a3e" : "#1c7ed6",
      note: `${s.peakRssMb} MB`
    })),
    ...ceiling("faker alone", input.sourceAloneRecordsPerSecond),
    ...ceiling("reference relay", input.baselines?.relayRecordsPerSecond),
    ...ceiling("reference sockets", input.baselines?.socketRecordsPerSecond)
  ]
  const max = Math.max(1, ...all.map((s) => s.recordsPerSecond))
  const height = top + all.length * (barHeight + 12) + 40
  const bars = all.map((s, i) => {
    const y = top + i * (barHeight + 12)
    const w = Math.max(2, Math.round((s.recordsPerSecond / max) * (width - left - 150)))
    return `<text x="${left - 10}" y="${y + barHeight / 2 + 5}" text-anchor="end" font-size="14">${escape(s.name)}</text>` +
      `<rect x="${left}" y="${y}" width="${w}" height="${barHeight}" fill="${s.color}" rx="3"/>` +
      `<text x="${left + w + 8}" y="${y + barHeight / 2 + 5}" font-size="13">${Math.round(s.recordsPerSecond / 1000)} k rec/s · ${escape(s.note)}</text>`
  }).join("\n  ")
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
  <rect width="100%" height="100%" fill="white"/>
  <text x="20" y="28" font-size="16" font-weight="bold">Sluice: faker → dev-null, ${input.records.toLocaleString("en")} records (socket/stdio ${input.ratios.socketOverStdio}×)</text>
  ${bars}
  <text x="20" y="${height - 12}" font-size="11" fill="#555">records per second (higher is better) · peak RSS of the Sluice process · grey: ceilings measured in the same run (bench/README.md)</text>
</svg>
`
}
