#pragma once
// Stop codes (Microsoft's Bug Check Code Reference) and the report a bug check prints.
#include <cstdint>
#include <string>

namespace ke {

enum BugCheckCode : std::uint32_t {
  kIrqlNotGreaterOrEqual = 0x09,  // IRQL_NOT_GREATER_OR_EQUAL: KeRaiseIrql to a lower level
  kIrqlNotLessOrEqual = 0x0A,    // IRQL_NOT_LESS_OR_EQUAL: KeLowerIrql upward; wait at >= DISPATCH;
                                 // a page fault at >= DISPATCH_LEVEL outside a driver's routine
  kSpinLockAlreadyOwned = 0x0F,  // SPIN_LOCK_ALREADY_OWNED
  kSpinLockNotOwned = 0x10,      // SPIN_LOCK_NOT_OWNED
  kTrapCauseUnknown = 0x12,      // TRAP_CAUSE_UNKNOWN: parameter 1 = 1, unexpected interrupt
  kNoMoreIrpStackLocations = 0x35,      // NO_MORE_IRP_STACK_LOCATIONS: IoCallDriver past the last
  kMultipleIrpCompleteRequests = 0x44,  // MULTIPLE_IRP_COMPLETE_REQUESTS: an IRP completed twice
  kAttemptedSwitchFromDpc = 0xB8,    // ATTEMPTED_SWITCH_FROM_DPC: a wait or yield in a DPC routine
  kIrqlUnexpectedValue = 0xC8,       // IRQL_UNEXPECTED_VALUE: a DPC returned at another IRQL
  kDriverIrqlNotLessOrEqual = 0xD1,  // DRIVER_IRQL_NOT_LESS_OR_EQUAL
  kKmodeExceptionNotHandled = 0x1E,  // KMODE_EXCEPTION_NOT_HANDLED: a bus error in kernel mode
  kPageFaultInNonpagedArea = 0x50,   // PAGE_FAULT_IN_NONPAGED_AREA: a kernel address never valid
  kKernelDataInpageError = 0x7A,  // KERNEL_DATA_INPAGE_ERROR: a paging read of kernel data failed
  kAttemptedWriteToReadonlyMemory = 0xBE,  // ATTEMPTED_WRITE_TO_READONLY_MEMORY
  kHardwareInterruptStorm = 0xF2,          // HARDWARE_INTERRUPT_STORM: a level line no ISR claims
};

// What KeBugCheckEx reported, kept for the platform's statistics and for tests. Every field is
// simulated state: the same run gives the same record (no host addresses in the parameters).
struct BugCheckRecord {
  std::uint32_t code = 0;
  std::uint64_t p1 = 0, p2 = 0, p3 = 0, p4 = 0;
  unsigned cpu = 0;
  unsigned irql = 0;
  std::uint64_t time_ps = 0;
  std::string contexts;  // the chain of contexts, outermost first
};

// IRQL_UNEXPECTED_VALUE's parameter 1 is (current << 16) | (expected << 8) | unique value;
// Microsoft lists unique values 0-3 and 0xfe. A DPC routine is none of those; iocosim uses 4.
constexpr std::uint32_t kUniqueDpcReturn = 4;

// Every stop code the kernel and the I/O manager raise (each has a name in bug_check_name).
inline constexpr BugCheckCode kBugCheckCodes[] = {kIrqlNotGreaterOrEqual,
                                                  kIrqlNotLessOrEqual,
                                                  kSpinLockAlreadyOwned,
                                                  kSpinLockNotOwned,
                                                  kTrapCauseUnknown,
                                                  kNoMoreIrpStackLocations,
                                                  kMultipleIrpCompleteRequests,
                                                  kAttemptedSwitchFromDpc,
                                                  kIrqlUnexpectedValue,
                                                  kDriverIrqlNotLessOrEqual,
                                                  kKmodeExceptionNotHandled,
                                                  kPageFaultInNonpagedArea,
                                                  kKernelDataInpageError,
                                                  kAttemptedWriteToReadonlyMemory,
                                                  kHardwareInterruptStorm};

// The Windows name of a stop code ("UNKNOWN_BUG_CHECK" for none of kBugCheckCodes).
const char* bug_check_name(std::uint32_t code);

}  // namespace ke
