#include "warehouse/postgres/postgres_handle.h"

#include <fmt/format.h>

#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "common/redact.h"
#include "warehouse/roles.h"

namespace bikestream::postgres {
namespace {

// Settings a URL may override: a bounded wait for an unreachable server, and a name that
// shows in pg_stat_activity.
constexpr const char* kDefaultKeywords[] = {"connect_timeout", "application_name", "dbname",
                                            nullptr};
constexpr const char* kDefaultConnectTimeoutSeconds = "10";

// libpq's messages end with a newline and indent their hints with tabs: one line reads better.
std::string OneLine(std::string_view message) {
  std::string line;
  bool space = false;
  for (char c : message) {
    if (c == '\n' || c == '\t' || c == ' ') {
      space = !line.empty();
      continue;
    }
    if (space) line.push_back(' ');
    space = false;
    line.push_back(c);
  }
  return line;
}

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// Where the connection went, without the password a URL may carry.
std::string Target(PGconn* connection) {
  const char* host = PQhost(connection);
  const char* port = PQport(connection);
  const char* db = PQdb(connection);
  return fmt::format("{}:{}/{}", host ? host : "?", port ? port : "?", db ? db : "?");
}

}  // namespace

absl::StatusOr<Connection> Connect(const std::string& url) {
  RegisterUrlSecrets(url);  // libpq quotes what it cannot parse, the password included.
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
  if (parsed == nullptr) {
    std::string why = parse_error ? RedactSecrets(OneLine(parse_error)) : "out of memory";
    PQfreemem(parse_error);
    return absl::InvalidArgumentError(fmt::format(
        "bad PostgreSQL URL: {} (use postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE)", why));
  }
  PQconninfoFree(parsed);
  const char* values[] = {kDefaultConnectTimeoutSeconds, "bikestream", url.c_str(), nullptr};
  Connection connection(PQconnectdbParams(kDefaultKeywords, values, /*expand_dbname=*/1));
  if (!connection) return absl::ResourceExhaustedError("out of memory connecting to PostgreSQL");
  if (PQstatus(connection.get()) == CONNECTION_OK) return connection;

  const std::string why = OneLine(PQerrorMessage(connection.get()));
  const std::string target = Target(connection.get());
  if (Contains(why, "password authentication failed") || Contains(why, "no password supplied") ||
      (Contains(why, "role") && Contains(why, "does not exist"))) {
    return absl::UnauthenticatedError(fmt::format(
        "PostgreSQL at {} refused the login: {} (check the user and password in the URL, or "
        "PGUSER, PGPASSWORD or ~/.pgpass)",
        target, why));
  }
  if (Contains(why, "database") && Contains(why, "does not exist")) {
    const char* host = PQhost(connection.get());
    const char* port = PQport(connection.get());
    const char* db = PQdb(connection.get());
    return absl::NotFoundError(fmt::format(
        "{} (create it with `createdb -h {} -p {} {}` or CREATE DATABASE, then run `bikestream "
        "setup`)",
        why, host ? host : "HOST", port ? port : "PORT", db ? db : "NAME"));
  }
  // libpq's own hint, when it gives one, says what to check.
  return absl::UnavailableError(
      fmt::format("cannot connect to PostgreSQL at {}: {}{}", target, why,
                  Contains(why, "Is the server running")
                      ? ""
                      : " (is the server running there and accepting TCP connections?)"));
}

absl::StatusOr<Result> Exec(PGconn* connection, std::string_view sql,
                            std::span<const Param> params) {
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  for (const Param& param : params) {
    values.push_back(param.null ? nullptr : param.value.data());
    lengths.push_back(static_cast<int>(param.value.size()));
    formats.push_back(param.bytes ? 1 : 0);
  }
  // Text parameters must end with NUL; a string_view need not, so those are copied.
  std::vector<std::string> text_copies;
  text_copies.reserve(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!params[i].bytes && !params[i].null)
      values[i] = text_copies.emplace_back(params[i].value).c_str();
  }
  Result result(PQexecParams(connection, std::string(sql).c_str(), static_cast<int>(params.size()),
                             nullptr, values.data(), lengths.data(), formats.data(), 0));
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  return ErrorOf(connection, result.get(), "statement failed");
}

absl::Status ExecScript(PGconn* connection, std::string_view sql) {
  Result result(PQexec(connection, std::string(sql).c_str()));
  if (result && PQresultStatus(result.get()) == PGRES_COMMAND_OK) return absl::OkStatus();
  return ErrorOf(connection, result.get(), "statement failed");
}

absl::Status ErrorOf(PGconn* connection, const PGresult* result, std::string_view doing) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state ? state : "";
  const std::string message =
      OneLine(result && *PQresultErrorMessage(result) ? PQresultErrorMessage(result)
                                                      : PQerrorMessage(connection));
  if (PQstatus(connection) == CONNECTION_BAD || sqlstate.starts_with("08") ||
      sqlstate.starts_with("57P")) {
    return absl::UnavailableError(
        fmt::format("{}: lost the connection to PostgreSQL: {}", doing, message));
  }
  if (sqlstate == "40001" || sqlstate == "40P01") {
    return absl::AbortedError(fmt::format("{}: {}", doing, message));
  }
  if (sqlstate == "23505") {
    return absl::AlreadyExistsError(fmt::format("{}: {}", doing, message));
  }
  // Data exceptions (22…), integrity constraints (23…, e.g. a CHECK the table's owner added)
  // and an oversized row (54000) belong to a row, not to the connection or the batch.
  if (sqlstate.starts_with("22") || sqlstate.starts_with("23") || sqlstate == "54000") {
    return RowRefused(fmt::format("{}: {}", doing, message));
  }
  if (sqlstate == "42P01") {
    return absl::FailedPreconditionError(
        fmt::format("{}: {} (run `bikestream setup` to create the tables)", doing, message));
  }
  return absl::InvalidArgumentError(fmt::format("{}: {}", doing, message));
}

absl::Status CopyIn(PGconn* connection, std::string_view copy_sql, std::string_view data) {
  Result started(PQexec(connection, std::string(copy_sql).c_str()));
  if (!started || PQresultStatus(started.get()) != PGRES_COPY_IN) {
    return ErrorOf(connection, started.get(), "starting COPY failed");
  }
  // libpq takes int lengths; large batches go in slices.
  constexpr std::size_t kSlice = 1 << 20;
  for (std::size_t offset = 0; offset < data.size(); offset += kSlice) {
    const std::string_view slice = data.substr(offset, kSlice);
    if (PQputCopyData(connection, slice.data(), static_cast<int>(slice.size())) != 1) {
      return ErrorOf(connection, nullptr, "sending COPY data failed");
    }
  }
  if (PQputCopyEnd(connection, nullptr) != 1)
    return ErrorOf(connection, nullptr, "ending COPY failed");
  absl::Status status = absl::OkStatus();
  while (Result finished{PQgetResult(connection)}) {
    if (status.ok() && PQresultStatus(finished.get()) != PGRES_COMMAND_OK) {
      status = ErrorOf(connection, finished.get(), "COPY failed");
    }
  }
  return status;
}

void AppendCopyField(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out.push_back(c);
    }
  }
}

BinaryCopy::BinaryCopy() : data_("PGCOPY\n\377\r\n\0", 11) {
  AddBigEndian(std::int32_t{0});  // Flags.
  AddBigEndian(std::int32_t{0});  // Header extension length.
}

void BinaryCopy::BeginRow(std::int16_t fields) { AddBigEndian(fields); }

void BinaryCopy::AddText(std::string_view text) {
  AddBigEndian(static_cast<std::int32_t>(text.size()));
  data_.append(text);
}

void BinaryCopy::AddInt4(std::int32_t value) {
  AddBigEndian(std::int32_t{4});
  AddBigEndian(value);
}

void BinaryCopy::AddInt8(std::int64_t value) {
  AddBigEndian(std::int32_t{8});
  AddBigEndian(value);
}

void BinaryCopy::AddTimestampTz(std::int64_t micros_since_unix_epoch) {
  // PostgreSQL counts microseconds from 2000-01-01T00:00:00Z.
  constexpr std::int64_t kPostgresEpochMicros = 946'684'800'000'000;
  AddInt8(micros_since_unix_epoch - kPostgresEpochMicros);
}

std::string BinaryCopy::Finish() {
  AddBigEndian(std::int16_t{-1});
  return std::move(data_);
}

template <typename Int>
void BinaryCopy::AddBigEndian(Int value) {
  using Unsigned = std::make_unsigned_t<Int>;
  const auto bits = static_cast<Unsigned>(value);
  for (int shift = 8 * (sizeof(Int) - 1); shift >= 0; shift -= 8) {
    data_.push_back(static_cast<char>((bits >> shift) & 0xFF));
  }
}

std::string UnescapeBytes(const char* text) {
  std::size_t length = 0;
  unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &length);
  if (bytes == nullptr) return {};
  std::string result(reinterpret_cast<const char*>(bytes), length);
  PQfreemem(bytes);
  return result;
}

}  // namespace bikestream::postgres
