#include "sw/ke/bugcheck.h"

#include <cstdio>

#include <exception>

#include <fmt/format.h>

#include "sw/ke/kernel.h"
#include "util/event_log.h"
#include "util/log.h"

namespace ke {

const char* bug_check_name(std::uint32_t code) {
  switch (code) {
    case kIrqlNotGreaterOrEqual:
      return "IRQL_NOT_GREATER_OR_EQUAL";
    case kIrqlNotLessOrEqual:
      return "IRQL_NOT_LESS_OR_EQUAL";
    case kSpinLockAlreadyOwned:
      return "SPIN_LOCK_ALREADY_OWNED";
    case kSpinLockNotOwned:
      return "SPIN_LOCK_NOT_OWNED";
    case kTrapCauseUnknown:
      return "TRAP_CAUSE_UNKNOWN";
    case kNoMoreIrpStackLocations:
      return "NO_MORE_IRP_STACK_LOCATIONS";
    case kMultipleIrpCompleteRequests:
      return "MULTIPLE_IRP_COMPLETE_REQUESTS";
    case kAttemptedSwitchFromDpc:
      return "ATTEMPTED_SWITCH_FROM_DPC";
    case kIrqlUnexpectedValue:
      return "IRQL_UNEXPECTED_VALUE";
    case kDriverIrqlNotLessOrEqual:
      return "DRIVER_IRQL_NOT_LESS_OR_EQUAL";
    case kKmodeExceptionNotHandled:
      return "KMODE_EXCEPTION_NOT_HANDLED";
    case kPageFaultInNonpagedArea:
      return "PAGE_FAULT_IN_NONPAGED_AREA";
    case kKernelDataInpageError:
      return "KERNEL_DATA_INPAGE_ERROR";
    case kAttemptedWriteToReadonlyMemory:
      return "ATTEMPTED_WRITE_TO_READONLY_MEMORY";
    case kHardwareInterruptStorm:
      return "HARDWARE_INTERRUPT_STORM";
  }
  return "UNKNOWN_BUG_CHECK";
}

}  // namespace ke

// ---- KeBugCheckEx

namespace ke {

void Kernel::bug_check(std::uint32_t code, std::uint64_t p1, std::uint64_t p2, std::uint64_t p3,
                       std::uint64_t p4) {
  cpu_.disable_interrupts();
  if (!bug_checked_) {
    bug_checked_ = true;
    const Prcb& here = prcb();
    const std::string contexts = describe_frames(here);
    bug_check_ =
        BugCheckRecord{code, p1, p2, p3, p4, here.number, here.irql, cpu_.now_ps(), contexts};
    // On several processors the report shows what each was doing (KeBugCheckEx freezes the
    // others with an IPI; here they are simply not run again).
    std::string others;
    if (prcbs_.size() > 1) {
      for (const auto& p : prcbs_) {
        if (p.get() == &here) continue;
        others += fmt::format("    cpu {}: IRQL {}, {}\n", p->number, p->irql, describe_frames(*p));
      }
    }
    const std::string report = fmt::format(
        "\n*** STOP: {:#010x} ({:#018x}, {:#018x}, {:#018x}, {:#018x})\n"
        "*** {}\n"
        "    cpu {}, IRQL {}, simulated time {}\n"
        "    contexts: {}\n{}\n",
        code, p1, p2, p3, p4, bug_check_name(code), here.number, here.irql,
        util::format_time(cpu_.now_ps()), contexts, others);
    std::fputs(report.c_str(), stderr);
    std::fflush(stderr);
    if (util::events().enabled()) {
      util::events().emit("ke", "bugcheck",
                          {{"code", static_cast<std::uint64_t>(code)},
                           {"name", bug_check_name(code)},
                           {"p1", p1},
                           {"p2", p2},
                           {"p3", p3},
                           {"p4", p4},
                           {"cpu", here.number},
                           {"irql", here.irql},
                           {"contexts", contexts}});
      util::events().flush();
    }
  }
  cpu_.stop(3);
  std::terminate();  // stop() never returns; reaching here is a processor-model bug
}

}  // namespace ke
