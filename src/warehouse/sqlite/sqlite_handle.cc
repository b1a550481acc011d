#include "warehouse/sqlite/sqlite_handle.h"

#include <fmt/format.h>

#include "absl/status/status.h"
#include "warehouse/roles.h"

namespace bikestream::sqlite {

absl::Status Error(sqlite3* db, std::string_view doing) {
  const int code = sqlite3_errcode(db);
  std::string message = fmt::format("{}: {}", doing, sqlite3_errmsg(db));
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
      return absl::UnavailableError(message);
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return absl::FailedPreconditionError(message);
    case SQLITE_CONSTRAINT:  // Of a constraint or trigger the table's owner added.
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
      return RowRefused(message);
    default:
      return absl::InvalidArgumentError(message);
  }
}

absl::Status Exec(sqlite3* db, std::string_view sql) {
  std::string text(sql);
  if (sqlite3_exec(db, text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Error(db, "SQL failed");
  }
  return absl::OkStatus();
}

absl::StatusOr<Statement> Statement::Prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr) !=
      SQLITE_OK) {
    return Error(db, "cannot prepare SQL");
  }
  Statement statement;
  statement.stmt_.reset(raw);
  return statement;
}

absl::StatusOr<int> Statement::Run() {
  sqlite3* db = sqlite3_db_handle(stmt_.get());
  int rc;
  while ((rc = sqlite3_step(stmt_.get())) == SQLITE_ROW) {
  }
  absl::Status status = rc == SQLITE_DONE ? absl::OkStatus() : Error(db, "write failed");
  sqlite3_reset(stmt_.get());
  if (!status.ok()) return status;
  return sqlite3_changes(db);
}

}  // namespace bikestream::sqlite
