// Cloud Spanner's REST API v1, as much of it as the warehouse uses: a database's DDL (read,
// create, update, waiting for the long-running operation), reads at a strong timestamp, and
// read-write transactions run as a function that Spanner may ask to run again (ABORTED), each
// on a session from a pool that the client deletes when it goes. Idempotent calls are retried
// as Google says (transport failures, 5xx, 429); a commit is never sent twice, so an answer
// lost after it is the caller's to resolve (docs/adr/0010). Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/retry.h"
#include "common/time.h"
#include "gcp/credentials.h"
#include "http/http_client.h"

namespace bikestream::spanner {

struct ClientOptions {
  std::string endpoint = "https://spanner.googleapis.com";  // No trailing '/'.
  std::string project;
  std::string instance;
  std::string database;
  std::shared_ptr<gcp::Credentials> credentials;  // Null: send none (the emulator).
  Clock* clock = nullptr;                         // Default: the system clock.
  // Calls that may be sent again; and, separately, how often a transaction runs again when
  // Spanner aborts it (a conflict, or the emulator's one transaction at a time).
  RetryPolicy retry = {.initial_backoff = 100 * kMicrosPerMilli,
                       .max_backoff = 5 * kMicrosPerSecond,
                       .max_duration = 120 * kMicrosPerSecond};
  RetryPolicy aborted = {.initial_backoff = 20 * kMicrosPerMilli,
                         .max_backoff = 2 * kMicrosPerSecond,
                         .max_duration = 120 * kMicrosPerSecond};
  std::chrono::milliseconds timeout{60'000};  // Per HTTP call.
};

// A typed value for a query parameter or a mutation: Spanner's JSON carries INT64 and
// TIMESTAMP as text, FLOAT64 as a number, NULL as null.
struct Value {
  nlohmann::json type;  // A google.spanner.v1.Type, e.g. {"code": "STRING"}.
  nlohmann::json value;
};
Value String(std::string_view text);
Value Int64(std::int64_t number);
Value Float64(double number);
Value Timestamp(TimestampMicros instant);
Value Null(std::string_view code);
// ARRAY<STRUCT<name type, ...>>: one struct per row, in the fields' order.
struct StructField {
  std::string name;
  std::string code;  // STRING, INT64, FLOAT64, TIMESTAMP, BYTES, BOOL.
};
Value StructArray(const std::vector<StructField>& fields,
                  const std::vector<std::vector<nlohmann::json>>& rows);
Value StringArray(const std::vector<std::string>& items);
Value TimestampArray(const std::vector<TimestampMicros>& instants);

using Params = std::vector<std::pair<std::string, Value>>;  // @name → value.

// A result: column names and type codes, and the rows as Spanner's JSON values.
struct ResultSet {
  std::vector<std::string> columns;
  std::vector<std::string> types;
  std::vector<std::vector<nlohmann::json>> rows;
  std::int64_t rows_changed = 0;  // A DML statement's row count.
};

// TIMESTAMP as Spanner writes it (RFC 3339, UTC, up to nanoseconds) to microseconds; INT64 text
// to a number. Both refuse what is not one.
absl::StatusOr<TimestampMicros> TimestampOf(const nlohmann::json& value);
absl::StatusOr<std::int64_t> Int64Of(const nlohmann::json& value);

// A write buffered in a transaction and applied at its commit.
struct Mutation {
  enum class Kind { kInsert, kInsertOrUpdate, kDelete };
  Kind kind = Kind::kInsert;
  std::string table;
  std::vector<std::string> columns;               // kInsert, kInsertOrUpdate.
  std::vector<std::vector<nlohmann::json>> rows;  // Values (or, for kDelete, keys) as JSON.
};

class Client;

// One read-write transaction, inside Client::RunTransaction. Its first statement begins it.
class Transaction {
 public:
  // A query or a DML statement in the transaction (reads take locks until the commit).
  absl::StatusOr<ResultSet> ExecuteSql(const std::string& sql, const Params& params = {});
  // The rows of `table` (or of its `index`, "" for none) with these keys, by key: the point
  // reads Spanner serves fastest (a query's IN UNNEST scans on the emulator). Locks them until
  // the commit, as a query's reads.
  absl::StatusOr<ResultSet> Read(const std::string& table, const std::string& index,
                                 const std::vector<std::string>& columns,
                                 const std::vector<std::vector<nlohmann::json>>& keys);
  // Applied at the commit, after every statement.
  void Buffer(Mutation mutation) { mutations_.push_back(std::move(mutation)); }

 private:
  friend class Client;
  // The selector of the next call: begin the transaction, or continue it.
  nlohmann::json Selector() const;
  absl::Status Began(const nlohmann::json& reply, std::string_view call);
  Transaction(Client& client, std::string session)
      : client_(client), session_(std::move(session)) {}
  Client& client_;
  std::string session_;
  std::string id_;  // Empty until the first statement began it.
  std::int64_t seqno_ = 0;
  std::vector<Mutation> mutations_;
};

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();  // Deletes the pooled sessions (best effort: Spanner expires them after an hour).
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The database's DDL statements; nullopt when the database does not exist.
  absl::StatusOr<std::optional<std::vector<std::string>>> DatabaseDdl();
  // Creates the database with `ddl`, and waits until it is ready. kAlreadyExists when it is.
  absl::Status CreateDatabase(const std::vector<std::string>& ddl);
  // Applies `ddl` to the database, and waits until it is done.
  absl::Status UpdateDdl(const std::vector<std::string>& ddl);
  // Whether the instance exists; and, for the emulator, creates it (instances cost money on
  // Google Cloud: there, a person creates one).
  absl::StatusOr<bool> InstanceExists();
  absl::Status CreateEmulatorInstance();

  // A read at a strong timestamp (sees every commit before it), in no transaction.
  absl::StatusOr<ResultSet> Query(const std::string& sql, const Params& params = {});

  // Rows of `table` by key at a strong timestamp, in no transaction: `key_set` is Spanner's
  // KeySet ({"keys": [...]} or {"ranges": [{"startClosed": [...], "endClosed": [...]}]}); at
  // most `limit` rows when > 0. Point reads, served without a scan (where SQL scans on the
  // emulator).
  absl::StatusOr<ResultSet> Read(const std::string& table, const std::vector<std::string>& columns,
                                 const nlohmann::json& key_set, std::int64_t limit = 0);

  // Runs `body` in a read-write transaction and commits what it did; when Spanner aborts the
  // transaction, runs `body` again from the start (with backoff, within options.aborted). An
  // error from `body` rolls the transaction back and is returned. The commit's instant on
  // success.
  absl::StatusOr<TimestampMicros> RunTransaction(
      const std::function<absl::Status(Transaction&)>& body);

  const ClientOptions& options() const { return options_; }

 private:
  friend class Transaction;
  std::string DatabasePath() const;
  absl::StatusOr<nlohmann::json> Call(const std::string& method, const std::string& path,
                                      const nlohmann::json& body, std::string_view operation);
  absl::StatusOr<nlohmann::json> CallOnce(const std::string& method, const std::string& path,
                                          const nlohmann::json& body, std::string_view operation);
  absl::Status WaitForOperation(nlohmann::json operation, std::string_view what);
  absl::StatusOr<bool> Listed(const std::string& path, const char* field, const std::string& name);
  absl::StatusOr<ResultSet> Execute(const std::string& session, const nlohmann::json& request);
  absl::StatusOr<TimestampMicros> RunOnce(const std::function<absl::Status(Transaction&)>& body,
                                          const std::string& session);
  // Sessions: one taken from the pool (or created), and given back when it is still good.
  absl::StatusOr<std::string> TakeSession();
  void GiveBack(std::string session);

  ClientOptions options_;
  Clock& clock_;
  http::HttpClient http_;
  absl::Mutex mu_;
  std::vector<std::string> idle_sessions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bikestream::spanner
