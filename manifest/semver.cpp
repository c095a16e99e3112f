#include "manifest/semver.h"

#include <cstddef>

namespace updraft::manifest {
namespace {

// string_view::substr checks its bounds by throwing, which would pull the exception
// runtime into a freestanding build; every caller here is within bounds already.
std::string_view slice(std::string_view s, std::size_t pos, std::size_t length) {
  return std::string_view(s.data() + pos, length);
}
std::string_view slice_from(std::string_view s, std::size_t pos) {
  return slice(s, pos, s.size() - pos);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_identifier_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}
bool is_numeric(std::string_view s) {
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return true;
}

// A version number: digits, no leading zero, at most 2^32 - 1.
Result<std::uint32_t> parse_number(std::string_view s) {
  if (s.empty() || !is_numeric(s) || (s.size() > 1 && s[0] == '0'))
    return ErrorCode::kManifestMalformed;
  std::uint64_t value = 0;
  for (char c : s) {
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
    if (value > 0xFFFFFFFFu) return ErrorCode::kManifestMalformed;
  }
  return static_cast<std::uint32_t>(value);
}

// Dot-separated, non-empty identifiers of [0-9A-Za-z-]; pre-release numeric ones
// without leading zeros (build metadata allows them).
bool valid_identifiers(std::string_view s, bool pre_release) {
  if (s.empty()) return false;
  std::size_t start = 0;
  while (true) {
    std::size_t end = s.find('.', start);
    if (end == std::string_view::npos) end = s.size();
    const std::string_view id = slice(s, start, end - start);
    if (id.empty()) return false;
    for (char c : id) {
      if (!is_identifier_char(c)) return false;
    }
    if (pre_release && id.size() > 1 && id[0] == '0' && is_numeric(id)) return false;
    if (end == s.size()) return true;
    start = end + 1;
  }
}

// Next dot-separated identifier of `s` from `pos`, advancing `pos` past it.
std::string_view next_identifier(std::string_view s, std::size_t& pos) {
  std::size_t end = s.find('.', pos);
  if (end == std::string_view::npos) end = s.size();
  const std::string_view id = slice(s, pos, end - pos);
  pos = end + 1;
  return id;
}

int compare_identifiers(std::string_view a, std::string_view b) {
  const bool a_numeric = is_numeric(a);
  const bool b_numeric = is_numeric(b);
  if (a_numeric && b_numeric) {
    // Without leading zeros the longer number is the larger; the same length compares as text.
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    return a.compare(b);
  }
  if (a_numeric != b_numeric) return a_numeric ? -1 : 1;
  return a.compare(b);
}

int compare_numbers(std::uint32_t a, std::uint32_t b) { return a < b ? -1 : (a > b ? 1 : 0); }

}  // namespace

Result<SemVer> parse_semver(std::string_view text) {
  SemVer v;
  std::string_view core = text;
  if (const std::size_t plus = core.find('+'); plus != std::string_view::npos) {
    v.build = slice_from(core, plus + 1);
    if (!valid_identifiers(v.build, false)) return ErrorCode::kManifestMalformed;
    core = slice(core, 0, plus);
  }
  if (const std::size_t dash = core.find('-'); dash != std::string_view::npos) {
    v.pre_release = slice_from(core, dash + 1);
    if (!valid_identifiers(v.pre_release, true)) return ErrorCode::kManifestMalformed;
    core = slice(core, 0, dash);
  }
  const std::size_t dot1 = core.find('.');
  if (dot1 == std::string_view::npos) return ErrorCode::kManifestMalformed;
  const std::size_t dot2 = core.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return ErrorCode::kManifestMalformed;
  UPDRAFT_TRY_ASSIGN(v.major, parse_number(slice(core, 0, dot1)));
  UPDRAFT_TRY_ASSIGN(v.minor, parse_number(slice(core, dot1 + 1, dot2 - dot1 - 1)));
  UPDRAFT_TRY_ASSIGN(v.patch, parse_number(slice_from(core, dot2 + 1)));
  return v;
}

int compare(const SemVer& a, const SemVer& b) {
  if (int c = compare_numbers(a.major, b.major); c != 0) return c;
  if (int c = compare_numbers(a.minor, b.minor); c != 0) return c;
  if (int c = compare_numbers(a.patch, b.patch); c != 0) return c;
  if (a.pre_release.empty() || b.pre_release.empty()) {
    // A release outranks any of its pre-releases.
    return a.pre_release.empty() == b.pre_release.empty() ? 0 : (a.pre_release.empty() ? 1 : -1);
  }
  std::size_t pa = 0;
  std::size_t pb = 0;
  while (pa <= a.pre_release.size() && pb <= b.pre_release.size()) {
    const int c =
        compare_identifiers(next_identifier(a.pre_release, pa), next_identifier(b.pre_release, pb));
    if (c != 0) return c < 0 ? -1 : 1;
  }
  // All shared identifiers are equal: the one with more of them is higher.
  const bool a_more = pa <= a.pre_release.size();
  const bool b_more = pb <= b.pre_release.size();
  return a_more == b_more ? 0 : (a_more ? 1 : -1);
}

}  // namespace updraft::manifest
