#include "core/host/error.h"

namespace updraft {

std::string Error::to_string() const {
  return std::string(error_name(code)) + " (" + std::to_string(error_number(code)) +
         "): " + message;
}

}  // namespace updraft
