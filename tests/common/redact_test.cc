// The one redaction path: secrets masked by their shape (URLs, settings, JSON, Bearer) and by
// their value once registered, in every form they may be shown in.
#include "common/redact.h"

#include <gtest/gtest.h>

#include <string>

namespace bikestream {
namespace {

struct Case {
  const char* text;
  const char* redacted;
};

TEST(RedactUrl, MasksWhatTheShapeOfATextShowsIsSecret) {
  const Case cases[] = {
      // user:PASSWORD@ of a URL, whatever the password holds; a user alone stays.
      {"postgresql://bike:s3cret@db:5432/bikes", "postgresql://bike:***@db:5432/bikes"},
      {"postgresql://bike:p@ss@db/bikes?sslmode=require",
       "postgresql://bike:***@db/bikes?sslmode=require"},
      {"postgresql://bike@db:5432/bikes", "postgresql://bike@db:5432/bikes"},
      // A mistyped scheme, and a URL inside another's query.
      {"postgressql://u:PGPW@h/db", "postgressql://u:***@h/db"},
      {"mqtt:/u:MQTTPW@h/t", "mqtt:/u:***@h/t"},
      {"bigquery://p/d?endpoint=https://u:BQPW@127.0.0.1:1",
       "bigquery://p/d?endpoint=https://u:***@127.0.0.1:1"},
      // Parameters whose names say they are secret, in a query or a key=value setting.
      {"postgresql://bike@db/bikes?password=s3cret&sslmode=require",
       "postgresql://bike@db/bikes?password=***&sslmode=require"},
      {"host=db password=s3cret dbname=bikes", "host=db password=*** dbname=bikes"},
      {"host=db password='with space' dbname=bikes", "host=db password='***' dbname=bikes"},
      {"https://h/push?token=PUSHTOK7&x=1", "https://h/push?token=***&x=1"},
      {"https://h/v1?key=AIza&access_token=ya29.x&page=2",
       "https://h/v1?key=***&access_token=***&page=2"},
      {"client_secret=CS9&refresh_token=RT9&grant_type=refresh_token",
       "client_secret=***&refresh_token=***&grant_type=refresh_token"},
      // JSON members, and an Authorization header echoed.
      {R"({"access_token": "ya29.abc", "expires_in": 3599})",
       R"({"access_token": "***", "expires_in": 3599})"},
      {R"({"private_key":"-----BEGIN\nKEY-----","client_email":"a@b"})",
       R"({"private_key":"***","client_email":"a@b"})"},
      {"Authorization: Bearer ya29.abc, then", "Authorization: Bearer ***, then"},
      // What has no such shape is left as it is.
      {"sqlite:bike:s@x.db", "sqlite:bike:s@x.db"},
      {"http://127.0.0.1:8080/gbfs.json", "http://127.0.0.1:8080/gbfs.json"},
      {"error: station 12@x went away", "error: station 12@x went away"},
      {"monkey=banana&sort=asc", "monkey=banana&sort=asc"},
      {"PATH=/usr/local/bin:/usr/bin:/tmp/rv/node@18/bin",
       "PATH=/usr/local/bin:/usr/bin:/tmp/rv/node@18/bin"},
      {"send Authorization: Bearer TOKEN", "send Authorization: Bearer TOKEN"},
      // The end of a sentence is not part of a value; how a URL is written is not a password.
      {"--bigquery-endpoint http://h/?key=K3y: give an https URL",
       "--bigquery-endpoint http://h/?key=***: give an https URL"},
      {"use postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE",
       "use postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"},
  };
  for (const Case& c : cases) EXPECT_EQ(RedactUrl(c.text), c.redacted) << c.text;
}

TEST(RedactSecrets, MasksARegisteredSecretInEveryFormItMayBeShownIn) {
  RegisterSecret("Pl4nted/Secret\"1");
  RegisterSecret("short");  // Too short to register: its shape alone masks it.
  EXPECT_EQ(RedactSecrets("server said: Pl4nted/Secret\"1 is wrong"), "server said: *** is wrong");
  EXPECT_EQ(RedactSecrets("echo: Pl4nted%2FSecret%221"), "echo: ***");
  EXPECT_EQ(RedactSecrets(R"({"echo":"Pl4nted/Secret\"1"})"), R"({"echo":"***"})");
  EXPECT_EQ(RedactSecrets("a short word"), "a short word");
  RegisterUrlSecrets("mqtt://user:UrlPassw0rd@broker/t?token=UrlT0ken");
  EXPECT_EQ(RedactSecrets("broker refused UrlPassw0rd, UrlT0ken"), "broker refused ***, ***");
}

// A secret that is also a word masks that word, not the longer words it is part of.
TEST(RedactSecrets, MasksARegisteredSecretWhereItStandsAloneOnly) {
  RegisterSecret("postgres");
  EXPECT_EQ(RedactSecrets("postgresql://bike@db/bikes as postgres, postgres!"),
            "postgresql://bike@db/bikes as ***, ***!");
  EXPECT_EQ(RedactSecrets("bikestream: error: postgres_user"), "bikestream: error: postgres_user");
}

// Long hostile text (a server's reply, a flag) is redacted in time that grows with its length.
TEST(RedactUrl, LongHostileTextIsLookedAtOnce) {
  std::string text;
  for (int i = 0; i < 100'000; ++i) text += ":/a";
  for (int i = 0; i < 100'000; ++i) text += "token=a";
  text += "password='unterminated";
  for (int i = 0; i < 100'000; ++i) text += "\"secret\":\"x";
  const std::string redacted = RedactUrl(text);
  EXPECT_NE(redacted.find("token=***"), std::string::npos);
}

TEST(RedactSecrets, KeepsOnlyTheRecentTemporarySecrets) {
  RegisterTemporarySecret("ya29.first-token");
  EXPECT_EQ(RedactSecrets("token ya29.first-token"), "token ***");
  for (std::size_t i = 0; i < kRecentSecrets; ++i)
    RegisterTemporarySecret("ya29.later-token-" + std::to_string(i));
  EXPECT_EQ(RedactSecrets("token ya29.first-token"), "token ya29.first-token");  // Long expired.
  EXPECT_EQ(RedactSecrets("token ya29.later-token-3"), "token ***");
}

TEST(RemoteText, IsOneBoundedRedactedLine) {
  RegisterSecret("RemoteSecret42");
  EXPECT_EQ(RemoteText("bad\r\nrequest\tRemoteSecret42\x1b[2J"),
            "bad  request *** [2J");  // No escape reaches a terminal.
  const std::string cut = RemoteText(std::string(500, 'x') + " RemoteSecret42", 100);
  EXPECT_EQ(cut, std::string(100, 'x') + "…");
  // A secret that straddles the cut is masked before the text is cut.
  EXPECT_EQ(RemoteText(std::string(94, 'x') + " RemoteSecret42", 100),
            std::string(94, 'x') + " ***");
  EXPECT_EQ(RemoteText("héllo wörld", 2), "h…");  // Not inside a UTF-8 character.
}

}  // namespace
}  // namespace bikestream
