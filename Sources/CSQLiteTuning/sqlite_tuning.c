#include "sqlite_tuning.h"
#include <sqlite3.h>
#include <stddef.h>
#include <string.h>
#include <openssl/evp.h>

int allowance_sqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Appends `value` as SQLite's printf("%0<width>lld") writes it: zero-padded to `width`, the sign counted in it. */
static int put_padded(char *out, sqlite3_int64 value, int width) {
    char digits[20];
    int count = 0, length = 0;
    sqlite3_uint64 magnitude = value < 0 ? (sqlite3_uint64)0 - (sqlite3_uint64)value : (sqlite3_uint64)value;
    do {
        digits[count++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude > 0);
    if (value < 0) {
        out[length++] = '-';
        width--;
    }
    for (int pad = count; pad < width; pad++) out[length++] = '0';
    while (count > 0) out[length++] = digits[--count];
    return length;
}

/* Byte offset of character `index` (0-based) in `text`, counting characters as SQLite's substr() does (a lead byte of
   0xC0 or more takes the continuation bytes after it); `length` when the text is shorter. */
static int char_offset(const unsigned char *text, int length, int index, int is_blob) {
    if (is_blob) return index < length ? index : length;
    int offset = 0;
    while (index > 0 && offset < length) {
        if (text[offset++] >= 0xC0) {
            while (offset < length && (text[offset] & 0xC0) == 0x80) offset++;
        }
        index--;
    }
    return offset;
}

/* allowance_item_reference(period, batch_id, seq): an item's reference, the bytes Migrations.itemReferenceSQL makes with
   printf('AL-%s%s-%06d-%07d', substr(period, 1, 4), substr(period, 6, 2), batch_id, seq), without printf's
   parsing and allocations (a microsecond a row). */
static void item_reference(sqlite3_context *context, int argc, sqlite3_value **argv) {
    (void)argc;
    int is_blob = sqlite3_value_type(argv[0]) == SQLITE_BLOB;
    const unsigned char *period = is_blob ? (const unsigned char *)sqlite3_value_blob(argv[0]) : sqlite3_value_text(argv[0]);
    int length = sqlite3_value_bytes(argv[0]);
    if (period == NULL) {
        /* NULL, an empty blob, or a value with bytes but no pointer: SQLite ran out of memory converting it. */
        if (length > 0) {
            sqlite3_result_error_nomem(context);
            return;
        }
        length = 0;
    }
    /* substr() reads text only up to a NUL byte, and printf's %s stops at one in either piece. */
    if (!is_blob && period != NULL) length = (int)strnlen((const char *)period, (size_t)length);
    sqlite3_int64 batch = sqlite3_value_int64(argv[1]);
    sqlite3_int64 seq = sqlite3_value_int64(argv[2]);
    int year_end, month_start, month_end;
    if (length == 7 && period[4] == '-' && ((period[0] | period[1] | period[2] | period[3] | period[5] | period[6]) & 0x80) == 0
        && period[0] && period[1] && period[2] && period[3] && period[5] && period[6]) {
        /* Every period the tool writes: seven ASCII bytes, `2026-11`. */
        year_end = 4;
        month_start = 5;
        month_end = 7;
    } else {
        year_end = char_offset(period, length, 4, is_blob);
        month_start = char_offset(period, length, 5, is_blob);
        month_end = char_offset(period, length, 7, is_blob);
    }
    if (is_blob && period != NULL) {
        year_end = (int)strnlen((const char *)period, (size_t)year_end);
        month_end = month_start + (int)strnlen((const char *)period + month_start, (size_t)(month_end - month_start));
    }
    int period_bytes = year_end + (month_end - month_start);
    char stack[96];
    char *out = period_bytes <= 48 ? stack : sqlite3_malloc(period_bytes + 48);
    if (out == NULL) {
        sqlite3_result_error_nomem(context);
        return;
    }
    int at = 0;
    out[at++] = 'A';
    out[at++] = 'L';
    out[at++] = '-';
    for (int i = 0; i < year_end; i++) out[at++] = (char)period[i];
    for (int i = month_start; i < month_end; i++) out[at++] = (char)period[i];
    out[at++] = '-';
    at += put_padded(out + at, batch, 6);
    out[at++] = '-';
    at += put_padded(out + at, seq, 7);
    sqlite3_result_text(context, out, at, SQLITE_TRANSIENT);
    if (out != stack) sqlite3_free(out);
}

static void put_be(unsigned char *out, sqlite3_uint64 value, int bytes) {
    for (int i = bytes - 1; i >= 0; i--) { out[i] = (unsigned char)(value & 0xff); value >>= 8; }
}

/* SHA-256 over the arguments, each tagged by type so that no two rows encode alike: NULL is 'n'; an integer 'i' and
   8 bytes big-endian; text 't', 4 bytes of length and its UTF-8; anything else 'b', 4 bytes of length and its bytes.
   RowDigest in LedgerSQLite encodes the same way in Swift; the tests hold them equal. */
/* Appends to the digest through a buffer: a row's dozen short fields in one update, not two dozen. */
typedef struct { EVP_MD_CTX *md; unsigned char bytes[1024]; size_t used; } staged_digest;

static void stage(staged_digest *staged, const void *bytes, size_t count) {
    if (staged->used + count > sizeof(staged->bytes)) {
        EVP_DigestUpdate(staged->md, staged->bytes, staged->used);
        staged->used = 0;
        if (count > sizeof(staged->bytes)) { EVP_DigestUpdate(staged->md, bytes, count); return; }
    }
    memcpy(staged->bytes + staged->used, bytes, count);
    staged->used += count;
}

static void row_digest(sqlite3_context *context, int argc, sqlite3_value **argv) {
    staged_digest staged;
    staged.md = (EVP_MD_CTX *)sqlite3_user_data(context);
    staged.used = 0;
    if (EVP_DigestInit_ex(staged.md, EVP_sha256(), NULL) != 1) { sqlite3_result_error(context, "SHA-256 unavailable", -1); return; }
    unsigned char head[9];
    for (int i = 0; i < argc; i++) {
        switch (sqlite3_value_type(argv[i])) {
        case SQLITE_NULL:
            head[0] = 'n';
            stage(&staged, head, 1);
            break;
        case SQLITE_INTEGER:
            head[0] = 'i';
            put_be(head + 1, (sqlite3_uint64)sqlite3_value_int64(argv[i]), 8);
            stage(&staged, head, 9);
            break;
        case SQLITE_TEXT: {
            const unsigned char *text = sqlite3_value_text(argv[i]);
            int length = sqlite3_value_bytes(argv[i]);
            head[0] = 't';
            put_be(head + 1, (sqlite3_uint64)length, 4);
            stage(&staged, head, 5);
            if (length > 0) stage(&staged, text, (size_t)length);
            break;
        }
        default: {
            const void *bytes = sqlite3_value_blob(argv[i]);
            int length = sqlite3_value_bytes(argv[i]);
            head[0] = 'b';
            put_be(head + 1, (sqlite3_uint64)length, 4);
            stage(&staged, head, 5);
            if (length > 0) stage(&staged, bytes, (size_t)length);
        }
        }
    }
    EVP_MD_CTX *md = staged.md;
    if (staged.used > 0) EVP_DigestUpdate(md, staged.bytes, staged.used);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(md, digest, &size) != 1) { sqlite3_result_error(context, "SHA-256 failed", -1); return; }
    sqlite3_result_blob(context, digest, (int)size, SQLITE_TRANSIENT);
}

static void free_digest_context(void *md) { EVP_MD_CTX_free((EVP_MD_CTX *)md); }

/* The sum of 32-byte blobs read as big-endian numbers, modulo 2^256 (SealSum in AllowanceLedger): a link's seals
   summed in the statement that reads them. A blob of another length makes the result NULL, which matches no link. */
typedef struct { unsigned char sum[32]; int bad; } sum256_state;

static void sum256_step(sqlite3_context *context, int argc, sqlite3_value **argv) {
    (void)argc;
    sum256_state *state = (sum256_state *)sqlite3_aggregate_context(context, sizeof(sum256_state));
    if (state == NULL) { sqlite3_result_error_nomem(context); return; }
    if (sqlite3_value_bytes(argv[0]) != 32 || sqlite3_value_type(argv[0]) != SQLITE_BLOB) { state->bad = 1; return; }
    const unsigned char *digest = (const unsigned char *)sqlite3_value_blob(argv[0]);
    unsigned int carry = 0;
    for (int i = 31; i >= 0; i--) {
        unsigned int total = (unsigned int)state->sum[i] + digest[i] + carry;
        state->sum[i] = (unsigned char)(total & 0xff);
        carry = total >> 8;
    }
}

static void sum256_final(sqlite3_context *context) {
    sum256_state *state = (sum256_state *)sqlite3_aggregate_context(context, 0);
    if (state != NULL && state->bad) { sqlite3_result_null(context); return; }
    unsigned char zero[32] = {0};
    sqlite3_result_blob(context, state != NULL ? state->sum : zero, 32, SQLITE_TRANSIENT);
}


/* allowance_fold(text): a name as a search compares it: ASCII letters in lower case, Vietnamese (and other Latin) letters
 * without their diacritics (`Nguyễn` → `nguyen`, `Đ`/`đ` → `d`), combining marks dropped, runs of white space as one
 * space, no space at either end; other characters kept as they are. A name search is
 * `instr(allowance_fold(full_name), allowance_fold(?)) > 0`: the register streams past it inside SQLite. */
/* U+00C0..U+024F: the ASCII letter a precomposed letter folds to, 0 to keep it as it is. */
static const char fold_latin[0x0250 - 0x00C0] = {
    'a', 'a', 'a', 'a', 'a', 'a', 0, 'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
    0, 'n', 'o', 'o', 'o', 'o', 'o', 0, 0, 'u', 'u', 'u', 'u', 'y', 0, 0,
    'a', 'a', 'a', 'a', 'a', 'a', 0, 'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
    0, 'n', 'o', 'o', 'o', 'o', 'o', 0, 0, 'u', 'u', 'u', 'u', 'y', 0, 'y',
    'a', 'a', 'a', 'a', 'a', 'a', 'c', 'c', 'c', 'c', 'c', 'c', 'c', 'c', 'd', 'd',
    'd', 'd', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'g', 'g', 'g', 'g',
    'g', 'g', 'g', 'g', 'h', 'h', 0, 0, 'i', 'i', 'i', 'i', 'i', 'i', 'i', 'i',
    'i', 0, 0, 0, 'j', 'j', 'k', 'k', 0, 'l', 'l', 'l', 'l', 'l', 'l', 0,
    0, 0, 0, 'n', 'n', 'n', 'n', 'n', 'n', 0, 0, 0, 'o', 'o', 'o', 'o',
    'o', 'o', 0, 0, 'r', 'r', 'r', 'r', 'r', 'r', 's', 's', 's', 's', 's', 's',
    's', 's', 't', 't', 't', 't', 0, 0, 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    'u', 'u', 'u', 'u', 'w', 'w', 'y', 'y', 'y', 'z', 'z', 'z', 'z', 'z', 'z', 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    'o', 'o', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'u',
    'u', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'a', 'a', 'i',
    'i', 'o', 'o', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 0, 'a', 'a',
    'a', 'a', 0, 0, 0, 0, 'g', 'g', 'k', 'k', 'o', 'o', 'o', 'o', 0, 0,
    'j', 0, 0, 0, 'g', 'g', 0, 0, 'n', 'n', 'a', 'a', 0, 0, 0, 0,
    'a', 'a', 'a', 'a', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i', 'o', 'o', 'o', 'o',
    'r', 'r', 'r', 'r', 'u', 'u', 'u', 'u', 's', 's', 't', 't', 0, 0, 'h', 'h',
    0, 0, 0, 0, 0, 0, 'a', 'a', 'e', 'e', 'o', 'o', 'o', 'o', 'o', 'o',
    'o', 'o', 'y', 'y', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* U+1E00..U+1EFF: the ASCII letter a precomposed letter folds to, 0 to keep it as it is. */
static const char fold_extended[0x1F00 - 0x1E00] = {
    'a', 'a', 'b', 'b', 'b', 'b', 'b', 'b', 'c', 'c', 'd', 'd', 'd', 'd', 'd', 'd',
    'd', 'd', 'd', 'd', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'f', 'f',
    'g', 'g', 'h', 'h', 'h', 'h', 'h', 'h', 'h', 'h', 'h', 'h', 'i', 'i', 'i', 'i',
    'k', 'k', 'k', 'k', 'k', 'k', 'l', 'l', 'l', 'l', 'l', 'l', 'l', 'l', 'm', 'm',
    'm', 'm', 'm', 'm', 'n', 'n', 'n', 'n', 'n', 'n', 'n', 'n', 'o', 'o', 'o', 'o',
    'o', 'o', 'o', 'o', 'p', 'p', 'p', 'p', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r',
    's', 's', 's', 's', 's', 's', 's', 's', 's', 's', 't', 't', 't', 't', 't', 't',
    't', 't', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'v', 'v', 'v', 'v',
    'w', 'w', 'w', 'w', 'w', 'w', 'w', 'w', 'w', 'w', 'x', 'x', 'x', 'x', 'y', 'y',
    'z', 'z', 'z', 'z', 'z', 'z', 'h', 't', 'w', 'y', 0, 0, 0, 0, 0, 0,
    'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
    'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e',
    'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i', 'o', 'o', 'o', 'o',
    'o', 'o', 'o', 'o', 'o', 'o', 'o', 'o', 'o', 'o', 'o', 'o', 'o', 'o', 'o', 'o',
    'o', 'o', 'o', 'o', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    'u', 'u', 'y', 'y', 'y', 'y', 'y', 'y', 'y', 'y', 0, 0, 0, 0, 0, 0,
};

static void fold_text(sqlite3_context *context, int argc, sqlite3_value **argv) {
    (void)argc;
    const unsigned char *text = sqlite3_value_text(argv[0]);
    if (text == NULL) { sqlite3_result_null(context); return; }
    int length = sqlite3_value_bytes(argv[0]);
    char *out = sqlite3_malloc(length + 1);
    if (out == NULL) { sqlite3_result_error_nomem(context); return; }
    int written = 0, space = 1;
    for (int i = 0; i < length;) {
        unsigned char byte = text[i];
        int size = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1;
        if (i + size > length) size = length - i;
        unsigned int point = byte;
        if (byte >= 0x80 && size == 2) point = ((byte & 0x1Fu) << 6) | (text[i + 1] & 0x3Fu);
        else if (size == 3) point = ((byte & 0x0Fu) << 12) | ((text[i + 1] & 0x3Fu) << 6) | (text[i + 2] & 0x3Fu);
        if (point == ' ' || (point >= '\t' && point <= '\r') || point == 0x00A0) {
            i += size;
            if (!space) { out[written++] = ' '; space = 1; }
            continue;
        }
        if (byte < 0x80) {
            i += 1;
            out[written++] = (byte >= 'A' && byte <= 'Z') ? (char)(byte + 32) : (char)byte;
            space = 0;
            continue;
        }
        char letter = 0;
        if (point >= 0x0300 && point <= 0x036F) { i += size; continue; }
        if (point >= 0x00C0 && point < 0x0250) letter = fold_latin[point - 0x00C0];
        else if (point >= 0x1E00 && point < 0x1F00) letter = fold_extended[point - 0x1E00];
        if (letter != 0) {
            out[written++] = letter;
        } else {
            memcpy(out + written, text + i, (size_t)size);
            written += size;
        }
        i += size;
        space = 0;
    }
    if (written > 0 && out[written - 1] == ' ') written -= 1;
    sqlite3_result_text(context, out, written, sqlite3_free);
}

int allowance_sqlite_register_functions(struct sqlite3 *db) {
    int rc = sqlite3_create_function_v2(db, "allowance_item_reference", 3, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                        NULL, item_reference, NULL, NULL, NULL);
    if (rc != SQLITE_OK) return rc;
    /* One digest context per connection: a connection runs one statement's function at a time. */
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL) return SQLITE_NOMEM;
    rc = sqlite3_create_function_v2(db, "allowance_row_digest", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                    md, row_digest, NULL, NULL, free_digest_context);
    if (rc != SQLITE_OK) return rc;
    rc = sqlite3_create_function_v2(db, "allowance_fold", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                    NULL, fold_text, NULL, NULL, NULL);
    if (rc != SQLITE_OK) return rc;
    return sqlite3_create_function_v2(db, "allowance_sum256", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                      NULL, NULL, sum256_step, sum256_final, NULL);
}
