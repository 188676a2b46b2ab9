/**
 * Signals to a process group (a connector or a worker with everything it forked), safely: a group id
 * may be reused by an unrelated group once all its members are gone, so a final kill after the
 * leader exited is sent only while members remain. Linux /proc; imports only node builtins.
 */
import { readdirSync, readFileSync } from "node:fs"

/** Whether any process still belongs to process group `pgid` (Linux /proc; false when unknown). */
export const groupHasMembers = (pgid: number): boolean => {
  let entries: Array<string>
  try {
    entries = readdirSync("/proc")
  } catch {
    return false
  }
  for (const entry of entries) {
    const code = entry.charCodeAt(0)
    if (code < 48 || code > 57) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "latin1")
      // Fields after the command (which may hold spaces): state ppid pgrp …
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      if (Number(fields[2]) === pgid) return true
    } catch {
      // The process ended while we looked.
    }
  }
  return false
}

/** Sends `signal` to the group led by `pid`; a group that is gone already is not an error. */
export const killGroup = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pid, signal)
  } catch {
    // The group is already gone.
  }
}
