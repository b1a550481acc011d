// Runs a real PostgreSQL server for tests and benchmarks: a fresh cluster in a temporary
// directory, on a free loopback port, with password authentication. The server refuses to run
// as root, so under root it runs as the `postgres` system user (or `nobody`). Stop() and
// Start() restart it on the same port and data, for outage tests.
#pragma once

#include <fcntl.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support/pubsub_emulator_process.h"

namespace bikestream::testing_support {

class PostgresServer {
 public:
  static constexpr const char* kUser = "bikestream";
  static constexpr const char* kPassword = "bikestream-test";

  // `durable`: fsync as a production server does (benchmarks); off, tests run faster and a
  // clean shutdown still keeps every commit.
  explicit PostgresServer(bool durable = false) : durable_(durable) {
    const std::filesystem::path bin = BinDirectory();
    if (bin.empty()) {
      error_ = "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres)";
      return;
    }
    postgres_ = (bin / "postgres").string();
    port_ = FreeLoopbackPort();
    dir_ = std::filesystem::temp_directory_path() / fmt::format("bikestream-pg-{}", port_);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    if (!ChooseUser()) return;
    const std::string password_file = (dir_ / "password").string();
    std::ofstream(password_file) << kPassword << "\n";
    if (switch_user_) {
      for (const auto& path : {dir_, std::filesystem::path(password_file)}) {
        if (chown(path.c_str(), uid_, gid_) != 0) {
          error_ = "cannot hand " + path.string() + " to the server's user";
          return;
        }
      }
    }
    const int initdb = Run({(bin / "initdb").string(), "-D", (dir_ / "data").string(), "-U", kUser,
                            "--pwfile=" + password_file, "--auth-local=trust",
                            "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"},
                           /*wait=*/true);
    if (initdb != 0) {
      error_ = fmt::format("initdb failed (see {})", (dir_ / "server.log").string());
      return;
    }
    Start();
  }

  ~PostgresServer() {
    Stop();
    std::filesystem::remove_all(dir_);
  }

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  bool ready() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  int port() const { return port_; }

  std::string Url(const std::string& database = "postgres") const {
    return fmt::format("postgresql://{}:{}@127.0.0.1:{}/{}", kUser, kPassword, port_, database);
  }

  // Creates a new, empty database and returns its URL.
  std::string CreateDatabase(const std::string& name) const {
    PGconn* connection = PQconnectdb(Url().c_str());
    PQsetNoticeProcessor(
        connection, [](void*, const char*) {}, nullptr);
    PQclear(PQexec(connection,
                   fmt::format("DROP DATABASE IF EXISTS \"{0}\" WITH (FORCE)", name).c_str()));
    PQclear(PQexec(connection, fmt::format("CREATE DATABASE \"{}\"", name).c_str()));
    PQfinish(connection);
    return Url(name);
  }

  // Starts the server (again) and waits until it accepts connections.
  void Start() {
    const std::vector<std::string> args = {postgres_,
                                           "-D",
                                           (dir_ / "data").string(),
                                           "-p",
                                           std::to_string(port_),
                                           "-k",
                                           dir_.string(),
                                           "-c",
                                           "listen_addresses=127.0.0.1",
                                           "-c",
                                           "max_connections=50",
                                           "-c",
                                           durable_ ? "fsync=on" : "fsync=off"};
    pid_ = Run(args, /*wait=*/false);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (PQping(Url().c_str()) == PQPING_OK) return;
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    error_ = fmt::format("PostgreSQL did not start (see {})", (dir_ / "server.log").string());
  }

  // Stops the server as `pg_ctl stop -m fast` does: sessions are cut, commits are kept.
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGINT);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (waitpid(pid_, nullptr, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(-pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    pid_ = -1;
  }

  // The server's version, e.g. "15.18 (Debian 15.18-0+deb12u1)".
  std::string Version() const {
    PGconn* connection = PQconnectdb(Url().c_str());
    PGresult* result = PQexec(connection, "SHOW server_version");
    std::string version =
        PQresultStatus(result) == PGRES_TUPLES_OK ? PQgetvalue(result, 0, 0) : "?";
    PQclear(result);
    PQfinish(connection);
    return version;
  }

  // Where the newest installed PostgreSQL's programs are; $BIKESTREAM_PG_BINDIR overrides.
  static std::filesystem::path BinDirectory() {
    if (const char* configured = std::getenv("BIKESTREAM_PG_BINDIR")) return configured;
    std::filesystem::path newest;
    std::error_code ignored;
    for (const auto& version :
         std::filesystem::directory_iterator("/usr/lib/postgresql", ignored)) {
      if (std::filesystem::exists(version.path() / "bin" / "postgres") && version.path() > newest) {
        newest = version.path();
      }
    }
    return newest.empty() ? newest : newest / "bin";
  }

 private:
  bool ChooseUser() {
    if (geteuid() != 0) return true;
    for (const char* name : {"postgres", "nobody"}) {
      if (const passwd* user = getpwnam(name)) {
        switch_user_ = true;
        uid_ = user->pw_uid;
        gid_ = user->pw_gid;
        return true;
      }
    }
    error_ = "running as root and there is no postgres or nobody user to run PostgreSQL as";
    return false;
  }

  // Runs `args` as the server's user, in its own process group, output to server.log. Returns
  // the exit code when `wait`, else the pid.
  int Run(const std::vector<std::string>& args, bool wait) {
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    const std::string log = (dir_ / "server.log").string();
    const pid_t pid = fork();
    if (pid == 0) {
      // Only async-signal-safe calls between fork and exec.
      setpgid(0, 0);
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
      }
      if (switch_user_ && (setgid(gid_) != 0 || setuid(uid_) != 0)) _exit(127);
      execv(argv[0], argv.data());
      _exit(127);
    }
    if (!wait) return pid;
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  bool durable_;
  std::string postgres_;
  int port_ = 0;
  std::filesystem::path dir_;
  bool switch_user_ = false;  // Root: run the server as uid_/gid_.
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  pid_t pid_ = -1;
  std::string error_;
};

}  // namespace bikestream::testing_support
