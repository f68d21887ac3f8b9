import { AsyncLocalStorage } from "node:async_hooks"

// Problem: inside `transaction(fn)`, a statement sent through the outer Sql
// instead of the `tx` handed to fn waits forever on PGlite (its one backend
// is busy with the transaction) and silently runs outside the transaction on
// PostgreSQL. Fix: both engines refuse it at once, with the reason. Work that
// fn leaves behind (a timer, a listener) runs in the same async context but
// after the transaction has ended: that is allowed.

type Open = { owner: object; open: boolean }
const active = new AsyncLocalStorage<Open>()

export async function insideTransaction<R>(owner: object, fn: () => Promise<R>): Promise<R> {
  const t: Open = { owner, open: true }
  try {
    return await active.run(t, fn)
  } finally {
    t.open = false
  }
}

export function assertOutsideTransaction(owner: object): void {
  const t = active.getStore()
  if (t?.open && t.owner === owner) {
    throw new Error("a statement on the store was sent from inside its own transaction: use the `tx` that transaction(fn) passes to fn")
  }
}
