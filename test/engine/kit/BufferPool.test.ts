/** The socket side's buffer pool: reuse after release, sizes, double release, the bound on what it keeps. */
import { assert, describe, it } from "@effect/vitest"
import { BufferPool } from "../../../src/engine/kit/BufferPool.ts"

describe("BufferPool", () => {
  it("hands out the start of a pooled buffer and reuses it once released", () => {
    const pool = new BufferPool(1024, 2)
    const a = pool.alloc(100)
    assert.strictEqual(a.length, 100)
    assert.strictEqual(pool.outstanding, 1)
    const b = pool.alloc(1024)
    assert.notStrictEqual(b.buffer, a.buffer)
    pool.release(a)
    assert.strictEqual(pool.outstanding, 1)
    const c = pool.alloc(10)
    assert.strictEqual(c.buffer, a.buffer, "a released buffer is handed out again")
    pool.release(b)
    pool.release(c)
    assert.strictEqual(pool.outstanding, 0)
  })

  it("gives a larger request bytes of its own and ignores what it did not hand out", () => {
    const pool = new BufferPool(1024, 2)
    const big = pool.alloc(4096)
    assert.strictEqual(big.length, 4096)
    assert.strictEqual(pool.outstanding, 0)
    pool.release(big)
    pool.release(new Uint8Array(10))
    assert.strictEqual(pool.outstanding, 0)
  })

  it("takes a buffer back once: a late second release cannot free its next use", () => {
    const pool = new BufferPool(1024, 4)
    const a = pool.alloc(10)
    pool.release(a)
    const again = pool.alloc(10)
    assert.strictEqual(again.buffer, a.buffer)
    pool.release(a)
    // `a` was released already; `again` is in use and stays out.
    assert.strictEqual(pool.outstanding, 1)
    assert.notStrictEqual(pool.alloc(10).buffer, again.buffer)
  })

  it("keeps at most `keep` returned buffers", () => {
    const pool = new BufferPool(64, 1)
    const a = pool.alloc(1)
    const b = pool.alloc(1)
    pool.release(a)
    pool.release(b)
    const c = pool.alloc(1)
    const d = pool.alloc(1)
    assert.strictEqual(c.buffer, a.buffer)
    assert.notStrictEqual(d.buffer, b.buffer)
  })
})
