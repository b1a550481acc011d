// RAII owners for libpq handles, statements with parameters, COPY, and the mapping of
// PostgreSQL's errors to Status codes that say whether waiting helps. Private to the PostgreSQL
// backend. Not thread-safe, like the connection they belong to.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace bikestream::postgres {

struct ConnectionCloser {
  void operator()(PGconn* connection) const { PQfinish(connection); }
};
using Connection = std::unique_ptr<PGconn, ConnectionCloser>;

struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultClearer>;

// Connects to `url` (a postgresql:// URI or key=value string; what it leaves out comes from
// libpq's environment: PGHOST, PGUSER, PGPASSWORD, ~/.pgpass…). Errors name the fix:
// kInvalidArgument for a malformed URL, kUnauthenticated for a refused user or password,
// kNotFound for a missing database, kUnavailable when the server cannot be reached.
absl::StatusOr<Connection> Connect(const std::string& url);

// One statement parameter: text, or raw bytes for a bytea column, or NULL.
struct Param {
  std::string_view value;
  bool bytes = false;
  bool null = false;
};

// Runs one statement. Errors are mapped by ErrorOf.
absl::StatusOr<Result> Exec(PGconn* connection, std::string_view sql,
                            std::span<const Param> params = {});

// Runs statements without parameters or rows, e.g. a schema (several statements at once).
absl::Status ExecScript(PGconn* connection, std::string_view sql);

// The error of a failed statement as a Status, prefixed with what was being done:
// kUnavailable when the connection is gone or the server is shutting down or starting (a retry
// on a new connection may work), kAborted for a deadlock or serialization failure (a retry
// will work), kAlreadyExists for a unique violation, kFailedPrecondition naming `bikestream setup`
// for a missing table, kInvalidArgument for anything else the statement got wrong.
absl::Status ErrorOf(PGconn* connection, const PGresult* result, std::string_view doing);

// Runs `copy_sql` (COPY … FROM STDIN, text format) and sends it `data`.
absl::Status CopyIn(PGconn* connection, std::string_view copy_sql, std::string_view data);

// Appends `value` to `out` escaped for a field of COPY's text format.
void AppendCopyField(std::string& out, std::string_view value);

// Rows in COPY's binary format (COPY … FROM STDIN WITH (FORMAT binary)): the server reads
// integers and instants as they are, without parsing text.
class BinaryCopy {
 public:
  BinaryCopy();
  void BeginRow(std::int16_t fields);
  void AddText(std::string_view text);
  void AddInt4(std::int32_t value);
  void AddInt8(std::int64_t value);
  void AddTimestampTz(std::int64_t micros_since_unix_epoch);
  // The data to send, trailer included. The object is spent.
  std::string Finish();

 private:
  template <typename Int>
  void AddBigEndian(Int value);
  std::string data_;
};

// The bytes of a bytea value in its text form (\x…).
std::string UnescapeBytes(const char* text);

}  // namespace bikestream::postgres
