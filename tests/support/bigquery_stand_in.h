// A loopback stand-in for the BigQuery REST endpoints the warehouse calls (no BigQuery runs
// on these machines: there is no emulator). Owned by the tests:
// - every request is checked against BigQuery's published REST schema, the discovery document
//   in support/bigquery/ (field names, JSON types, int64 as strings, enums, required and
//   output-only fields, the query parameters each method takes), and so is every reply it
//   sends; a request that fails gets BigQuery's 400 `invalid`, and is counted;
// - it keeps datasets, tables and jobs; a job id is taken once (409 `duplicate` after);
// - statements run through an Executor the test passes in;
// - faults can be injected per method: an error reply, or a lost answer (the request is
//   applied, then the reply is an error);
// - with Options::transaction_time, transactions take time, and one that writes a table another
//   running transaction writes is cancelled, as BigQuery does;
// - each job is billed what BigQuery would bill it (support/bigquery_billing.h, through the
//   SQLite engine).
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "support/loopback_server.h"

namespace bikestream::testing_support {

// Checks JSON against the schemas of a Google discovery document.
class DiscoverySchema {
 public:
  explicit DiscoverySchema(const std::string& path);

  // "" when `value` is a valid `schema` ("Job", "QueryRequest", ...), else what is wrong and
  // where. A request may not set output-only fields and must set the required ones.
  std::string Check(const nlohmann::json& value, const std::string& schema, bool is_request) const;
  // "" when each of `names` is a query parameter of `method` ("jobs.get") or of every method.
  std::string CheckParameters(const std::string& method,
                              const std::vector<std::string>& names) const;

 private:
  std::string CheckValue(const nlohmann::json& value, const nlohmann::json& spec,
                         const std::string& where, bool is_request) const;
  std::string CheckObject(const nlohmann::json& value, const std::string& schema,
                          const std::string& where, bool is_request) const;
  nlohmann::json document_;
};

class BigQueryStandIn {
 public:
  struct Result {
    std::vector<std::pair<std::string, std::string>> fields;    // (name, type)
    std::vector<std::vector<std::optional<std::string>>> rows;  // TIMESTAMP as microseconds.
    std::int64_t bytes_processed = 0;
    std::int64_t bytes_billed = 0;  // What BigQuery would bill (support/bigquery_billing.h).
  };
  // A failed statement: the job is DONE with this errorResult.
  struct Failure {
    std::string reason;
    std::string message;
  };
  using Outcome = std::variant<Result, Failure>;
  // Where statements run, told of the datasets and tables as they are created.
  class Engine {
   public:
    virtual ~Engine() = default;
    // Runs a job's JobConfigurationQuery (for jobs.query, the same fields of its QueryRequest).
    virtual Outcome Run(const nlohmann::json& query) = 0;
    // Appends a load job's newline-delimited JSON rows to `table` (a Table resource, created
    // already); a Result with no rows, or the reason the load fails (a row that does not fit).
    virtual Outcome Load(const std::string& /*dataset*/, const nlohmann::json& /*table*/,
                         const std::string& /*ndjson*/) {
      return Failure{"invalid", "the stand-in's engine loads nothing"};
    }
    // Every row of a table, `fields` only, as a query's rows are (for tabledata.list).
    virtual Outcome ReadTable(const std::string& /*dataset*/, const std::string& /*table*/,
                              const std::vector<std::string>& /*fields*/) {
      return Failure{"invalid", "the stand-in's engine reads no table"};
    }
    virtual void TableDeleted(const std::string& /*dataset*/, const std::string& /*table*/) {}
    virtual void DatasetCreated(const std::string& /*dataset*/) {}
    virtual void TableCreated(const std::string& /*dataset*/, const nlohmann::json& /*table*/) {}
  };
  // An engine that only runs statements.
  using Executor = std::function<Outcome(const nlohmann::json& query)>;

  struct Fault {
    std::string method;  // "jobs.insert", "jobs.get", "jobs.getQueryResults", "jobs.query", ...
    int http_status = 503;
    std::string reason = "backendError";
    bool after_applying = false;  // A lost answer: the request takes effect, the reply fails.
  };

  struct Options {
    std::string project = "test-project";
    std::string token;          // When set, each request must carry `Authorization: Bearer token`.
    int polls_before_done = 0;  // jobs.get answers RUNNING this many times per job first.
    // How long a multi-statement transaction runs. Meanwhile another transaction that writes a
    // table it writes is cancelled ("Transaction is aborted due to concurrent update against
    // table ..."), as BigQuery cancels it, and applies nothing. 0: transactions never overlap.
    std::chrono::milliseconds transaction_time{0};
    // Changes BigQuery allows a table a day (loads count); past them a load fails with
    // quotaExceeded. Default: 1,500, BigQuery's.
    int table_changes_per_day = 1500;
  };

  BigQueryStandIn(Options options, Executor executor);
  BigQueryStandIn(Options options, std::unique_ptr<Engine> engine);

  std::string url() const { return server_->url(); }

  void InjectFault(Fault fault);
  // Fails the next run of a job with this errorResult reason (e.g. jobBackendError).
  void FailNextJob(Failure failure);

  int invalid_requests() const;  // Requests refused by the schema check.
  int executions() const;        // Statements run through the Executor.
  // Transactions cancelled because another running one wrote a table they write.
  int cancelled_for_concurrent_update() const;
  std::vector<std::string> job_ids() const;
  std::optional<nlohmann::json> dataset(const std::string& id) const;
  std::optional<nlohmann::json> table(const std::string& dataset, const std::string& id) const;
  // Every request's method name ("jobs.insert", ...), in order.
  std::vector<std::string> calls() const;

 private:
  struct Job {
    nlohmann::json reference;
    nlohmann::json configuration;
    Outcome outcome;
    int polls = 0;
    std::chrono::steady_clock::time_point done_at;  // RUNNING until then.
    std::int64_t started_ms = 0;                    // Wall clock, as BigQuery's statistics.
    std::int64_t duration_ms = 0;
    std::set<std::string> transaction_writes;  // "dataset.table"s a transaction writes.
  };
  using Handler = std::function<nlohmann::json(const httplib::Request&, int* status)>;

  void Route(httplib::Server& server);
  // Wraps a method: auth, schema checks, faults, errors in Google's shape.
  void Serve(const std::string& method, const std::string& request_schema,
             const std::string& reply_schema, const httplib::Request& request,
             httplib::Response& response, const Handler& handler);
  std::optional<Fault> TakeFault(const std::string& method);
  nlohmann::json RunJob(const nlohmann::json& reference, const nlohmann::json& configuration);
  // A load job's: creates its table when asked and missing, then appends `data` to it.
  nlohmann::json RunLoad(const nlohmann::json& reference, const nlohmann::json& configuration,
                         const std::string& data);
  // jobs.insert with its media: the parts of a multipart/related body, or why it is not one.
  nlohmann::json InsertWithMedia(const httplib::Request& request, int* status);
  // The dataset tables a multi-statement transaction writes; empty for any other job.
  std::set<std::string> TransactionWrites(const nlohmann::json& configuration) const;
  // A running transaction's table that `writes` has too, if any.
  std::optional<std::string> ConflictWith(const std::set<std::string>& writes) const;
  nlohmann::json JobResource(const Job& job) const;
  nlohmann::json ResultsPage(const Job& job, const httplib::Request& request, int* status) const;
  // Rows of `result` from the request's pageToken (start index) and maxResults, in the
  // REST shape ({"f": [{"v": ...}]}), TIMESTAMP as the request's formatOptions say.
  static nlohmann::json RowsPage(const Result& result, const httplib::Request& request,
                                 std::string* next_page_token);
  void RouteTables(httplib::Server& server, const std::string& projects);

  Options options_;
  std::unique_ptr<Engine> engine_;
  DiscoverySchema schema_;
  mutable std::mutex mutex_;
  std::deque<Fault> faults_;
  std::deque<Failure> job_failures_;
  std::map<std::string, Job> jobs_;
  std::map<std::string, nlohmann::json> datasets_;
  std::map<std::string, nlohmann::json> tables_;  // "dataset.table"
  std::map<std::string, int> table_changes_;      // "dataset.table": loads so far (one "day").
  std::vector<std::string> calls_;
  int invalid_requests_ = 0;
  int executions_ = 0;
  int cancelled_for_concurrent_update_ = 0;
  int next_query_job_ = 0;
  std::unique_ptr<LoopbackServer> server_;  // Last: stops before the state it serves goes.
};

// A reply in Google's error shape.
nlohmann::json GoogleError(int http_status, const std::string& reason, const std::string& message);

}  // namespace bikestream::testing_support
