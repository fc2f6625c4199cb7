// Entry point of every test binary that links SystemC. SystemC elaborates once per process, so
// each TEST needs a process of its own: CTest gives it one (gtest_discover_tests), and when a
// developer runs the binary by hand with several tests selected, this main re-runs itself once
// per test and sums up. SystemC warnings and errors fail the test.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>

namespace {

bool glob(const char* p, const char* s) {
  if (*p == '\0') return *s == '\0';
  if (*p == '*') return glob(p + 1, s) || (*s != '\0' && glob(p, s + 1));
  if (*s != '\0' && (*p == '?' || *p == *s)) return glob(p + 1, s + 1);
  return false;
}

bool any(const std::string& patterns, const std::string& name) {
  std::size_t start = 0;
  while (start <= patterns.size()) {
    std::size_t end = patterns.find(':', start);
    if (end == std::string::npos) end = patterns.size();
    if (glob(patterns.substr(start, end - start).c_str(), name.c_str())) return true;
    start = end + 1;
  }
  return false;
}

// gtest's filter syntax: POSITIVE[-NEGATIVE], each a ':'-separated list of globs.
bool selected(const std::string& filter, const std::string& name) {
  std::size_t dash = filter.find('-');
  std::string pos = filter.substr(0, dash);
  std::string neg = dash == std::string::npos ? "" : filter.substr(dash + 1);
  if (pos.empty()) pos = "*";
  return any(pos, name) && (neg.empty() || !any(neg, name));
}

void report_handler(const sc_core::sc_report& report, const sc_core::sc_actions& actions) {
  if (report.get_severity() == sc_core::SC_INFO) return;
  if (report.get_severity() == sc_core::SC_WARNING) {
    ADD_FAILURE() << "SystemC warning: " << report.get_msg_type() << ": " << report.get_msg();
    return;
  }
  sc_core::sc_report_handler::default_handler(report, actions);
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  testing::InitGoogleTest(&argc, argv);
  sc_core::sc_report_handler::set_handler(report_handler);
  sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", sc_core::SC_DO_NOTHING);

  if (GTEST_FLAG_GET(list_tests)) return RUN_ALL_TESTS();
  const std::string filter = GTEST_FLAG_GET(filter);
  std::vector<std::string> names;
  const auto* unit = testing::UnitTest::GetInstance();
  for (int i = 0; i < unit->total_test_suite_count(); ++i) {
    const auto* suite = unit->GetTestSuite(i);
    for (int j = 0; j < suite->total_test_count(); ++j) {
      std::string name = std::string(suite->name()) + "." + suite->GetTestInfo(j)->name();
      if (selected(filter, name)) names.push_back(name);
    }
  }
  if (names.size() <= 1) return RUN_ALL_TESTS();

  int failed = 0;
  for (const auto& name : names) {
    pid_t pid = fork();
    if (pid == 0) {
      std::string flag = "--gtest_filter=" + name;
      execl("/proc/self/exe", argv[0], flag.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      ++failed;
      std::fprintf(stderr, "FAILED: %s\n", name.c_str());
    }
  }
  std::fprintf(stderr, "%zu tests, each in its own process: %d failed\n", names.size(), failed);
  return failed == 0 ? 0 : 1;
}

int main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  return sc_core::sc_elab_and_sim(argc, argv);
}
