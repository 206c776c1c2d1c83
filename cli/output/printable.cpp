#include "cli/output/printable.hpp"

#include <cstdio>
#include <iostream>

namespace weft::cli::output {

namespace {

void Escape(unsigned char c, std::string& out) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", c);
  out += buf;
}

// The length of the UTF-8 sequence that starts `s` (1..4), 0 when `s` does not start a valid
// one, or -1 when `s` is a valid but incomplete start (more bytes may follow).
int SequenceLength(std::string_view s) {
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = b(0);
  int n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  for (int i = 1; i < n; ++i) {
    if (static_cast<std::size_t>(i) >= s.size()) return -1;
    unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xBF;
    if (b(static_cast<std::size_t>(i)) < min || b(static_cast<std::size_t>(i)) > max) return 0;
  }
  return n;
}

// Appends the printable form of `text` to `out`; returns how many bytes it consumed (all,
// unless `text` ends inside a character and `final` is false).
std::size_t AppendPrintable(std::string_view text, bool final, std::string& out) {
  std::size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F) {
        Escape(c, out);
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    int n = SequenceLength(text.substr(i));
    if (n < 0 && !final) return i;  // wait for the rest of the character
    if (n <= 0) {
      Escape(c, out);
      ++i;
      continue;
    }
    if (c == 0xC2 && static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      // U+0080..U+009F: the C1 controls (CSI, OSC, ...).
      Escape(c, out);
      Escape(static_cast<unsigned char>(text[i + 1]), out);
    } else {
      out.append(text.substr(i, static_cast<std::size_t>(n)));
    }
    i += static_cast<std::size_t>(n);
  }
  return i;
}

}  // namespace

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendPrintable(text, /*final=*/true, out);
  return out;
}

PrintableBuf::~PrintableBuf() {
  if (!pending_.empty()) Emit({}, /*final=*/true);
  target_->pubsync();
}

void PrintableBuf::Emit(std::string_view bytes, bool final) {
  std::string in = pending_;
  in.append(bytes);
  std::string out;
  std::size_t used = AppendPrintable(in, final, out);
  pending_ = in.substr(used);
  target_->sputn(out.data(), static_cast<std::streamsize>(out.size()));
}

PrintableBuf::int_type PrintableBuf::overflow(int_type ch) {
  if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
  char c = traits_type::to_char_type(ch);
  Emit(std::string_view(&c, 1), false);
  return ch;
}

std::streamsize PrintableBuf::xsputn(const char* s, std::streamsize n) {
  Emit(std::string_view(s, static_cast<std::size_t>(n)), false);
  return n;
}

int PrintableBuf::sync() {
  // A character still incomplete stays pending (its other bytes usually follow); the
  // destructor's sync writes what is left.
  return target_->pubsync();
}

PrintableStdStreams::PrintableStdStreams()
    : out_(std::cout.rdbuf()),
      err_(std::cerr.rdbuf()),
      out_buf_(std::make_unique<PrintableBuf>(out_)),
      err_buf_(std::make_unique<PrintableBuf>(err_)) {
  std::cout.rdbuf(out_buf_.get());
  std::cerr.rdbuf(err_buf_.get());
}

PrintableStdStreams::~PrintableStdStreams() {
  std::cout.flush();
  std::cerr.flush();
  std::cout.rdbuf(out_);
  std::cerr.rdbuf(err_);
}

}  // namespace weft::cli::output
