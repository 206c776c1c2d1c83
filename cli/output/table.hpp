#pragma once
// Plain-text tables for people; --output json prints the API's messages instead.
#include <iosfwd>
#include <string>
#include <vector>

namespace weft::cli::output {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace weft::cli::output
