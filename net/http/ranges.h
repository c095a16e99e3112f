// The conditional and partial parts of HTTP (RFC 9110 13-14) that a file answer
// needs: one "bytes=" Range, and entity-tag lists of If-Match / If-None-Match.
// Pure functions of header text, so the rules are tested without a socket.
#pragma once

#include <cstdint>
#include <string_view>

namespace updraft::net::http {

// One range of a file of some size, inclusive at both ends.
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
};

enum class RangeKind { kWhole, kPartial, kUnsatisfiable };

// What a Range header asks of a file of `size` bytes. kPartial fills `out`. A
// header we do not understand, or several ranges, is answered with the whole
// file (kWhole): the RFC allows ignoring Range, and clients cope with a 200.
// kUnsatisfiable: 416.
RangeKind parse_range(std::string_view header, std::uint64_t size, ByteRange& out);

// True when an If-None-Match / If-Match list names `etag` (weak or strong) or is "*".
bool etag_listed(std::string_view list, std::string_view etag);

// True when a Range may be honoured under this If-Range header: it is absent or
// names `etag` (a date is never equal to our strong tags, so it is not honoured).
bool if_range_allows(std::string_view if_range, std::string_view etag);

}  // namespace updraft::net::http
