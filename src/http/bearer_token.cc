#include "http/bearer_token.h"

#include <httplib.h>

#include <string>

namespace bikestream {

bool CarriesBearerToken(const httplib::Request& request, std::string_view token) {
  const std::string given = request.get_header_value("Authorization");
  const std::string expected = "Bearer " + std::string(token);
  if (given.size() != expected.size()) return false;  // Its length is not the secret.
  unsigned char differ = 0;
  for (std::size_t i = 0; i < given.size(); ++i)
    differ |= static_cast<unsigned char>(given[i] ^ expected[i]);
  return differ == 0;
}

}  // namespace bikestream
