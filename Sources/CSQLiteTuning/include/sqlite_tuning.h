#ifndef ALLOWANCE_SQLITE_TUNING_H
#define ALLOWANCE_SQLITE_TUNING_H

/// Turns off SQLite's process-wide memory statistics, which Swift cannot do itself (`sqlite3_config` is variadic).
///
/// With statistics on, every allocation SQLite makes takes a global mutex to count it, and Debian's libsqlite3 is built
/// without lookaside memory, so every small allocation is a `malloc`: about a dozen locked allocations per row written.
/// Must run before SQLite initialises (before the first connection opens); returns 0 (SQLITE_OK) when it took effect.
int allowance_sqlite_disable_memory_statistics(void);

struct sqlite3;

/// Registers the ledger's SQL functions on a connection; returns 0 (SQLITE_OK) on success.
///
/// `allowance_item_reference(period, batch_id, seq)` gives an item's reference as
/// Migrations.itemReferenceSQL does, byte for byte, for any values: SQLite's `printf` and `substr` took a microsecond a
/// row, a second of `batch create` at a million items.
///
/// `allowance_row_digest(value, …)` gives the 32-byte SHA-256 of its arguments, each tagged by type: how the register's
/// rows are sealed (RegisterChain in LedgerSQLite), in the statement that reads them; the aggregate
/// `allowance_fold(text)` gives a name as a search compares it: lower case, without diacritics, `đ` as `d`, single spaces.
/// `allowance_sum256(digest)` sums such digests modulo 2^256 (SealSum), NULL when one is not 32 bytes.
int allowance_sqlite_register_functions(struct sqlite3 *db);

#endif
