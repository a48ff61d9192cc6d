// One ledger invariant, as a query for its counter-examples.
export interface Check {
  readonly name: string;
  readonly description: string;
  /** Returns one row per violation, with a `detail` text column; LIMIT keeps a report readable. */
  readonly sql: string;
}
