#include "cli/metadata_args.h"

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>

#include "crypto/host/key_file.h"

namespace updraft::cli {
namespace {

Error invalid(const std::string& option, const std::string& text, const std::string& expected) {
  return Error(ErrorCode::kInvalidArgument, option + " '" + text + "': expected " + expected);
}

// Digits only, no sign or space: strtoull alone accepts " -1" and wraps it.
bool all_digits(const std::string& s, std::size_t from) {
  if (from >= s.size()) return false;
  for (std::size_t i = from; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

bool to_u64(const std::string& digits, int base, std::uint64_t& out) {
  errno = 0;
  char* end = nullptr;
  out = std::strtoull(digits.c_str(), &end, base);
  return errno == 0 && end != nullptr && *end == '\0';
}

}  // namespace

std::uint64_t unix_now() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

HostResult<std::uint64_t> parse_time(const std::string& text, std::uint64_t now,
                                     const std::string& option) {
  const std::string expected = "unix seconds, +SECONDS[s|m|h|d] from now, or YYYY-MM-DDTHH:MM:SSZ";
  std::uint64_t value = 0;
  if (all_digits(text, 0)) {
    if (!to_u64(text, 10, value)) return invalid(option, text, expected);
    return value;
  }
  if (!text.empty() && text[0] == '+') {
    std::string digits = text.substr(1);
    std::uint64_t unit = 1;  // bare digits are seconds
    const std::string units = "smhd";
    const std::uint64_t seconds_per[] = {1, 60, 3600, 86400};
    if (const std::size_t u = digits.empty() ? std::string::npos : units.find(digits.back());
        u != std::string::npos) {
      unit = seconds_per[u];
      digits.pop_back();
    }
    if (!all_digits(digits, 0) || !to_u64(digits, 10, value) || value > (UINT64_MAX - now) / unit) {
      return invalid(option, text, expected);
    }
    return now + value * unit;
  }
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') return invalid(option, text, expected);
  const std::time_t t = timegm(&tm);
  if (t < 0) return invalid(option, text, "a time after 1970");
  return static_cast<std::uint64_t>(t);
}

std::string format_time(std::uint64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  char text[32] = "?";
  if (gmtime_r(&t, &tm) != nullptr) std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

HostResult<std::uint64_t> parse_u64(const std::string& text, const std::string& option) {
  std::uint64_t value = 0;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    const std::string digits = text.substr(2);
    bool hex = !digits.empty();
    for (char c : digits) hex = hex && std::isxdigit(static_cast<unsigned char>(c));
    if (hex && to_u64(digits, 16, value)) return value;
  } else if (all_digits(text, 0) && to_u64(text, 10, value)) {
    return value;
  }
  return invalid(option, text, "a 64-bit number, decimal or 0x-hex");
}

HostResult<std::vector<SigningKey>> load_signing_keys(const std::vector<std::string>& paths) {
  std::vector<SigningKey> keys;
  for (const std::string& path : paths) {
    UPDRAFT_TRY_ASSIGN(SigningKey key, load_signing_key(path));
    keys.push_back(std::move(key));
  }
  return keys;
}

std::vector<const SigningKey*> pointers(const std::vector<SigningKey>& keys) {
  std::vector<const SigningKey*> out;
  for (const SigningKey& k : keys) out.push_back(&k);
  return out;
}

}  // namespace updraft::cli
