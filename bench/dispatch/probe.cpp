// dispatch_probe: the flow process of bench_dispatch. Its first act is to write the wall
// clock (microseconds since the epoch) to $WEFT_PROBE_DIR/$WEFT_FLOW_RUN_ID, so the bench
// can tell when the agent started it. Not an SDK program: the agent reports its states.
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  const char* dir = std::getenv("WEFT_PROBE_DIR");
  const char* id = std::getenv("WEFT_FLOW_RUN_ID");
  if (!dir || !id) return 2;
  long long us = static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
  std::string path = std::string(dir) + "/" + id;
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) return 1;
  std::fprintf(f, "%lld\n", us);
  std::fclose(f);
  return std::rename(tmp.c_str(), path.c_str()) == 0 ? 0 : 1;
}
