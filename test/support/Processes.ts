/**
 * Looking at processes in tests through /proc (Linux): children, descendants, command lines, and
 * whether a process still runs. Imports only node builtins.
 */
import { readdirSync, readFileSync } from "node:fs"

/** The pids of `pid`'s children (ppid = pid). */
export const childrenOf = (pid: number): Array<number> =>
  readdirSync("/proc").filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8")
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
      return ppid === pid ? [Number(d)] : []
    } catch {
      return []
    }
  })

export const descendantsOf = (pid: number): Array<number> => childrenOf(pid).flatMap((child) => [child, ...descendantsOf(child)])

export const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ")
  } catch {
    return ""
  }
}

/** The process exists and is not a zombie (a zombie still answers kill(pid, 0) until it is reaped). */
export const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.charAt(stat.lastIndexOf(")") + 2) !== "Z"
  } catch {
    return false
  }
}
