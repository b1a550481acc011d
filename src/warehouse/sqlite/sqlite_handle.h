// RAII owners for SQLite handles, and a prepared statement with typed binds.
// Private to the SQLite backend. Not thread-safe, like the connection they belong to.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace bikestream::sqlite {

struct ConnectionCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Connection = std::unique_ptr<sqlite3, ConnectionCloser>;

// The last error of `db` as a Status, prefixed with what was being done.
absl::Status Error(sqlite3* db, std::string_view doing);

// Runs statements that return no rows.
absl::Status Exec(sqlite3* db, std::string_view sql);

class Statement {
 public:
  Statement() = default;
  static absl::StatusOr<Statement> Prepare(sqlite3* db, std::string_view sql);

  // Binds are 1-based, as in SQLite. Text is not copied: it must outlive the next Step().
  void Bind(int index, std::string_view text) {
    sqlite3_bind_text(stmt_.get(), index, text.data(), static_cast<int>(text.size()),
                      SQLITE_STATIC);
  }
  void Bind(int index, std::int64_t value) { sqlite3_bind_int64(stmt_.get(), index, value); }
  void Bind(int index, double value) { sqlite3_bind_double(stmt_.get(), index, value); }
  void BindNull(int index) { sqlite3_bind_null(stmt_.get(), index); }

  // Runs the statement to completion; returns sqlite3_changes().
  absl::StatusOr<int> Run();

  sqlite3_stmt* get() const { return stmt_.get(); }

 private:
  struct Finalizer {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
  };
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
};

}  // namespace bikestream::sqlite
