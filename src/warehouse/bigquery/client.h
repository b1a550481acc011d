// BigQuery's REST API v2, as much of it as the warehouse uses: query jobs run to completion
// under an id the caller chooses (so that a retried insert never runs a statement twice),
// queries with paged results, datasets and tables. Calls are retried as Google says:
// transport failures, 5xx, 429 and the reasons rateLimitExceeded, backendError and
// internalError; never quotaExceeded, although it is a 403 like rateLimitExceeded.
// Thread-safe.
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

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/retry.h"
#include "gcp/credentials.h"
#include "http/http_client.h"

namespace bikestream::bigquery {

struct ClientOptions {
  std::string endpoint = "https://bigquery.googleapis.com";  // No trailing '/'.
  std::string project;                                       // Runs and bills the jobs.
  std::string location = "US";                               // Where the dataset and jobs are.
  std::string default_dataset;  // Where unqualified table names in statements are; "" none.
  std::shared_ptr<gcp::Credentials> credentials;  // Null: send none (a stand-in).
  Clock* clock = nullptr;                         // Default: the system clock.
  RetryPolicy retry = {.initial_backoff = 200 * kMicrosPerMilli,
                       .max_backoff = 16 * kMicrosPerSecond,
                       .max_duration = 300 * kMicrosPerSecond};
  std::chrono::milliseconds timeout{70'000};  // Per HTTP call; a long poll waits 10 s of it.
  std::uint32_t page_rows = 10'000;           // maxResults of each page read.
};

// A finished query job, as any client can read it: its statement, outcome and bill.
struct FinishedJob {
  std::string job_id;
  std::string query;
  absl::Status outcome;  // The job's errorResult; OK when it succeeded.
  std::int64_t bytes_processed = 0;
  std::int64_t bytes_billed = 0;
  DurationMicros duration = 0;  // From its start to its end, by BigQuery's clock.
};

// A column of a result, as BigQuery names its type (STRING, INTEGER, TIMESTAMP, ...).
struct Field {
  std::string name;
  std::string type;
};

// A result as BigQuery returns it: each cell as text, TIMESTAMP as integer microseconds since
// the epoch, NULL as nullopt. Bytes are what BigQuery reports for the whole job.
struct Rows {
  std::vector<Field> fields;
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::int64_t bytes_processed = 0;
  std::int64_t bytes_billed = 0;
  std::int64_t dml_affected_rows = 0;
};

// BigQuery's reason for a failed call or job (its ErrorProto.reason, e.g. "notFound",
// "invalidQuery"), "" when the status did not come from BigQuery.
std::string ReasonOf(const absl::Status& status);

// The reason of a job refused before it was sent: its request is over BigQuery's 10 MB.
inline constexpr char kRequestTooLarge[] = "requestTooLarge";

// Query parameters (QueryParameter JSON) for named parameters (@name). Scalar values are text
// as BigQuery takes them: INT64 as decimal, TIMESTAMP as "YYYY-MM-DD HH:MM:SS.ffffff+00".
nlohmann::json ScalarParameter(std::string_view name, std::string_view type, std::string value);
nlohmann::json ArrayParameter(std::string_view name, std::string_view type,
                              const std::vector<std::string>& values);
// ARRAY<STRUCT<fields...>>: one struct per row, its values in `fields` order; nullopt is NULL.
nlohmann::json StructArrayParameter(
    std::string_view name, const std::vector<Field>& fields,
    const std::vector<std::vector<std::optional<std::string>>>& rows);

// A job id no other job has: `prefix`_ and 32 random hex digits.
std::string UniqueJobId(std::string_view prefix);

// A TIMESTAMP parameter's text for an instant.
std::string TimestampText(TimestampMicros micros);

// A member of a reply (null when the reply is no object, or has no such member), and a member's
// text ("" when it is no string): BigQuery's replies are read through these, never throwing
// whatever a reply holds.
const nlohmann::json& MemberOf(const nlohmann::json& object, const char* name);
std::string TextOf(const nlohmann::json& object, const char* name);

// A table as tables.list gives it.
struct ListedTable {
  std::string id;
  TimestampMicros created = 0;  // Its creationTime; 0 when not given.
};

class Client {
 public:
  explicit Client(ClientOptions options);

  // Runs `sql` (GoogleSQL; a script is allowed) with named `parameters` as the query job
  // `job_id` and waits until it is done; returns the rows of its last statement. When the
  // job exists already (an earlier insert whose answer was lost reached BigQuery), that job's
  // outcome is returned: its statements ran once. A job that failed for a reason Google says
  // to retry under a new id (jobBackendError, backendError, ...) runs again as
  // `job_id`_r1, _r2, ... Job ids: letters, digits, '_' and '-', at most 1,000.
  absl::StatusOr<Rows> RunQueryJob(const std::string& job_id, const std::string& sql,
                                   const nlohmann::json& parameters);

  // Inserts the query job `job_id` and waits until it is done, as RunQueryJob does, but never
  // runs it again under another id, and a job found under the id is returned whoever inserted
  // it: an id many clients race to insert is run by one of them (BigQuery lets one insert
  // of an id succeed), and the others wait for that job. `query` tells whose it was.
  absl::StatusOr<FinishedJob> RunQueryJobOnce(const std::string& job_id, const std::string& sql,
                                              const nlohmann::json& parameters);
  // The job `job_id` once it is done (jobs.get, free); nullopt when there is no such job.
  absl::StatusOr<std::optional<FinishedJob>> FindJob(const std::string& job_id);
  // The rows of a finished query job's result (its script's last statement; free).
  absl::StatusOr<Rows> ReadResult(const std::string& job_id);

  // Appends `ndjson` (newline-delimited JSON objects, one a row) to `table` of the default
  // dataset, creating it with `schema` when it does not exist, by the load job `job_id` (one
  // multipart upload), and waits until it is done. Loads are free of charge, but BigQuery
  // allows a table 1,500 changes a day (quotaExceeded past them). Retried and re-run as
  // RunQueryJob is: a job id is loaded once.
  absl::Status LoadRows(const std::string& job_id, const std::string& table,
                        const std::vector<Field>& schema, const std::string& ndjson);

  // The tables of the default dataset whose id starts with `prefix` (tables.list, free).
  absl::StatusOr<std::vector<ListedTable>> ListTables(std::string_view prefix);
  // Deletes `table` of the default dataset; OK when it is gone already.
  absl::Status DeleteTable(const std::string& table);
  // Every row of `table` of the default dataset, its `fields` only, by tabledata.list (free of
  // charge, unlike a query); TIMESTAMP as integer microseconds. For small tables.
  absl::StatusOr<Rows> ReadTable(const std::string& table, const std::vector<std::string>& fields);

  // A query through jobs.query, its result read page by page. A retried call carries the same
  // requestId, so BigQuery runs the statement once. With `on_page`, each page's rows are handed
  // to it as they arrive and not kept: the result then holds the fields and figures only.
  using PageVisitor = std::function<void(const Rows& page)>;
  absl::StatusOr<Rows> Query(const std::string& sql, const nlohmann::json& parameters,
                             const PageVisitor& on_page = {});

  // A dataset's or table's resource, nullopt when it does not exist.
  absl::StatusOr<std::optional<nlohmann::json>> GetDataset(const std::string& dataset);
  absl::StatusOr<std::optional<nlohmann::json>> GetTable(const std::string& dataset,
                                                         const std::string& table);
  // Creates the resource; kAlreadyExists when it exists (someone else created it meanwhile).
  absl::Status CreateDataset(const nlohmann::json& dataset);
  absl::Status CreateTable(const std::string& dataset, const nlohmann::json& table);

  const ClientOptions& options() const { return options_; }

 private:
  // One call, retried as the class comment says; the reply's JSON, or BigQuery's error. With
  // `upload_type` (multipart/related; boundary=...), a media upload to the upload path.
  absl::StatusOr<nlohmann::json> Call(const std::string& method, const std::string& path,
                                      const std::string& body, std::string_view operation,
                                      std::string_view upload_type = {});
  absl::StatusOr<nlohmann::json> CallOnce(const std::string& method, const std::string& path,
                                          const std::string& body, std::string_view operation,
                                          std::string_view upload_type);
  // Inserts the job `job_id` with `configuration` (and `media` uploaded with it, when not
  // empty) and waits until it is done, as RunQueryJob describes; the finished job. `is_ours`
  // tells a job found under the id (an earlier try's) from someone else's.
  absl::StatusOr<nlohmann::json> RunJob(const std::string& job_id,
                                        const nlohmann::json& configuration,
                                        const std::string& media,
                                        const std::function<bool(const nlohmann::json&)>& is_ours);
  absl::StatusOr<nlohmann::json> WaitForJob(const std::string& job_id);
  static FinishedJob Finished(const nlohmann::json& job);
  absl::Status ReadPages(const std::string& job_id, std::optional<nlohmann::json> first_page,
                         Rows* rows, const PageVisitor& on_page = {});
  nlohmann::json QueryFields(const std::string& sql, const nlohmann::json& parameters) const;
  absl::StatusOr<std::optional<nlohmann::json>> GetIfExists(const std::string& path,
                                                            std::string_view operation);

  ClientOptions options_;
  Clock& clock_;
  http::HttpClient http_;
};

}  // namespace bikestream::bigquery
