// Builds the default machine from the installed headers and libraries, runs the idle workload
// for 5 ms and checks the timer interrupted the CPU as programmed (1 kHz: 5 ticks).
#include <cstdio>

#include "platform/config.h"
#include "platform/platform.h"
#include "platform/simulation.h"
#include "platform/workloads.h"

int sc_main(int, char*[]) {
  platform::Config c;
  c.workload = "idle";
  c.out_vcd.clear();
  c.sim_until_ps = 5'000'000'000ull;
  platform::validate(c);
  platform::Platform p("platform", c);
  auto workload = platform::Workload::create(p, c);
  platform::Session session(p, c);
  const platform::RunResult r = session.run(c.sim_until_ps, false);
  session.close();
  const auto interrupts = p.cpu.stats().interrupts;
  std::printf("iocosim_consumer: %llu interrupts in %llu ps, exit status %d\n",
              static_cast<unsigned long long>(interrupts),
              static_cast<unsigned long long>(r.sim_ps), r.exit_status);
  return r.exit_status == 0 && interrupts >= 4 && interrupts <= 6 ? 0 : 1;
}
