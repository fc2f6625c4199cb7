// The event log's writer: the bytes of its lines, the escaping fast path against the plain
// escaper, processor order within an instant, and the sink seeing what the file has.
#include "util/event_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "util/json.h"
#include "util/log.h"
#include "util/out_buffer.h"

namespace {

std::uint64_t g_now = 0;
int g_key = -1;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string temp_path(const char* name) {
  return (std::string(::testing::TempDir()) + name);
}

// Records what a sink is given, copied (the views die with the call).
struct Recorder : util::EventSink {
  std::vector<std::string> seen;
  void event(const util::Event& e) override {
    std::string s = std::to_string(e.t_ps) + " " + std::string(e.src) + " " + std::string(e.ev);
    for (std::size_t i = 0; i < e.field_count; ++i) {
      const auto& f = e.fields[i];
      s += " " + std::string(f.key) + "=";
      if (f.value.index() == 3) {
        s += "'" + std::string(e.text(f.key)) + "'";
      } else if (f.value.index() == 0) {
        s += std::to_string(static_cast<std::int64_t>(e.number(f.key)));
      } else {
        s += std::to_string(e.number(f.key));
      }
    }
    seen.push_back(s);
  }
};

TEST(JsonEscape, FastPathWritesWhatThePlainEscaperDoes) {
  // Every length up to past two 16-byte blocks, characters drawn from what needs escaping
  // (controls, quote, backslash), what does not (letters, DEL, UTF-8 bytes) — each string's
  // escape at every position the fast path treats differently.
  std::mt19937 rng(12345);
  const std::string pool = std::string("abcXYZ019 _.\"\\\x7f\x80\xc3\xa9\xff\n\r\t\b\f") +
                           std::string(1, '\0') + "\x01\x1f";
  std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
  for (int round = 0; round < 4000; ++round) {
    const std::size_t n = static_cast<std::size_t>(round % 41);
    std::string s;
    const bool plain = round % 3 != 0;  // mostly clean, as real text is
    for (std::size_t i = 0; i < n; ++i)
      s += plain ? static_cast<char>('a' + rng() % 26) : pool[pick(rng)];
    if (plain && n > 0 && round % 5 == 0) s[rng() % n] = pool[pick(rng)];
    std::string want;
    util::append_json_escaped(want, s);
    const std::size_t bound = util::json_escaped_bound(s);
    std::vector<char> out(bound + 16, '#');
    char* end = util::put_json_escaped(out.data(), s);
    ASSERT_EQ(std::string(out.data(), end), want) << "length " << n << " round " << round;
    ASSERT_LE(static_cast<std::size_t>(end - out.data()), bound);
    for (std::size_t i = bound; i < out.size(); ++i)
      ASSERT_EQ(out[i], '#') << "wrote past the bound, length " << n;
  }
}

TEST(PutNumber, WritesWhatStdToStringDoes) {
  // Every digit count and its edges (9s, powers of ten, 32- and 64-bit limits), both signs,
  // and random values of every bit length; nothing written past the number.
  std::vector<std::uint64_t> values = {
      0, 1, 9, 10, 99, 100, 4294967295ULL, 4294967296ULL, 18446744073709551615ULL};
  for (std::uint64_t p = 1; p <= 1'000'000'000'000'000'000ULL; p *= 10) {
    values.push_back(p - 1);
    values.push_back(p);
    values.push_back(p + 1);
  }
  std::mt19937_64 rng(7);
  for (int bits = 1; bits <= 64; ++bits)
    for (int k = 0; k < 50; ++k) values.push_back(rng() >> (64 - bits));
  for (const std::uint64_t v : values) {
    char out[32];
    std::fill(std::begin(out), std::end(out), '#');
    char* end = util::put_number(out, v);
    ASSERT_EQ(std::string(out, end), std::to_string(v));
    ASSERT_EQ(out[end - out], '#') << v;
    const auto s = static_cast<std::int64_t>(v);
    std::fill(std::begin(out), std::end(out), '#');
    end = util::put_number(out, s);
    ASSERT_EQ(std::string(out, end), std::to_string(s));
    ASSERT_EQ(out[end - out], '#') << s;
  }
}

TEST(EventLog, LinesAreTheDocumentedJson) {
  util::set_time_source([] { return g_now; });
  const std::string path = temp_path("event_log_lines.jsonl");
  util::EventLog log;
  ASSERT_TRUE(log.open(path));
  EXPECT_TRUE(log.enabled());
  g_now = 1234567;
  log.emit("platform.pic.master", "ir", {{"line", 3}, {"level", true}});
  g_now = 2000000;
  const std::string name = "a \"quoted\"\\name\n";
  log.emit("ke", "isr_enter", {{"name", name}, {"irq", 14u}}, {{"cpu", -1}});
  log.emit("x", "empty");
  EXPECT_EQ(log.close(), "");
  EXPECT_EQ(read_file(path),
            "{\"t_ps\":1234567,\"src\":\"platform.pic.master\",\"ev\":\"ir\",\"line\":3,"
            "\"level\":true}\n"
            "{\"t_ps\":2000000,\"src\":\"ke\",\"ev\":\"isr_enter\",\"name\":\"a "
            "\\\"quoted\\\"\\\\name\\n\","
            "\"irq\":14,\"cpu\":-1}\n"
            "{\"t_ps\":2000000,\"src\":\"x\",\"ev\":\"empty\"}\n");
  EXPECT_EQ(log.count(), 3u);
  std::remove(path.c_str());
}

TEST(EventLog, AnInstantIsInProcessorOrderAndTheSinkSeesTheFilesOrder) {
  util::set_time_source([] { return g_now; });
  const std::string path = temp_path("event_log_order.jsonl");
  util::EventLog log;
  Recorder sink;
  ASSERT_TRUE(log.open(path));
  log.attach(&sink);
  log.set_order_key([] { return g_key; });
  g_now = 5;
  auto emit = [&](int key, const char* ev) {
    g_key = key;
    // The value's storage dies after the call: held events must have copied it.
    std::string transient = std::string("value of ") + ev;
    log.emit("ke", ev, {{"v", transient}, {"k", key}});
  };
  emit(1, "b1");
  emit(0, "a0");
  emit(1, "b2");
  emit(0, "a1");
  emit(-1, "model");  // a model's own process: the instant's processor events come first
  g_now = 6;
  emit(1, "later");
  log.flush();
  log.attach(nullptr);
  EXPECT_EQ(log.close(), "");
  const std::vector<std::string> want = {
      "5 ke a0 v='value of a0' k=0",        "5 ke a1 v='value of a1' k=0",
      "5 ke b1 v='value of b1' k=1",        "5 ke b2 v='value of b2' k=1",
      "5 ke model v='value of model' k=-1", "6 ke later v='value of later' k=1"};
  EXPECT_EQ(sink.seen, want);
  std::istringstream lines(read_file(path));
  std::vector<std::string> evs;
  for (std::string line; std::getline(lines, line);) {
    const auto at = line.find("\"ev\":\"") + 6;
    evs.push_back(line.substr(at, line.find('"', at) - at));
    EXPECT_NE(line.find("\"v\":\"value of " + evs.back() + "\""), std::string::npos) << line;
  }
  EXPECT_EQ(evs, (std::vector<std::string>{"a0", "a1", "b1", "b2", "model", "later"}));
  std::remove(path.c_str());
}

TEST(EventLog, ASinkAloneEnablesItAndNoFileIsNeeded) {
  util::set_time_source([] { return g_now; });
  util::EventLog log;
  EXPECT_FALSE(log.enabled());
  log.emit("ke", "dropped");  // nothing attached: nothing done
  Recorder sink;
  log.attach(&sink);
  EXPECT_TRUE(log.enabled());
  g_now = 7;
  log.emit("io", "request", {{"irp", std::uint64_t{97}}, {"major", "IRP_MJ_READ"}});
  log.attach(nullptr);
  EXPECT_FALSE(log.enabled());
  log.emit("ke", "dropped too");
  EXPECT_EQ(sink.seen, (std::vector<std::string>{"7 io request irp=97 major='IRP_MJ_READ'"}));
}

}  // namespace
