#include "pubsub/base64.h"

#include <openssl/evp.h>

#include "absl/status/status.h"

namespace bikestream::pubsub {

std::string Base64Encode(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()),
                                static_cast<int>(data.size()));
  out.resize(n);
  return out;
}

absl::StatusOr<std::string> Base64Decode(const std::string& text) {
  if (text.size() % 4 != 0) return absl::InvalidArgumentError("message data is not base64");
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return absl::InvalidArgumentError("message data is not base64");
  // EVP_DecodeBlock counts the bytes that padding stands for.
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++padding;
  out.resize(n - padding);
  return out;
}

}  // namespace bikestream::pubsub
