#pragma once
// Stop codes (Microsoft's Bug Check Code Reference) and the report a bug check prints.
#include <cstdint>
#include <string>

namespace ke {

enum BugCheckCode : std::uint32_t {
  kIrqlNotGreaterOrEqual = 0x09,  // IRQL_NOT_GREATER_OR_EQUAL: KeRaiseIrql to a lower level
  kIrqlNotLessOrEqual = 0x0A,     // IRQL_NOT_LESS_OR_EQUAL: KeLowerIrql upward; wait at >= DISPATCH
  kSpinLockAlreadyOwned = 0x0F,   // SPIN_LOCK_ALREADY_OWNED
  kSpinLockNotOwned = 0x10,       // SPIN_LOCK_NOT_OWNED
  kTrapCauseUnknown = 0x12,       // TRAP_CAUSE_UNKNOWN: parameter 1 = 1, unexpected interrupt
  kNoMoreIrpStackLocations = 0x35,      // NO_MORE_IRP_STACK_LOCATIONS: IoCallDriver past the last
  kMultipleIrpCompleteRequests = 0x44,  // MULTIPLE_IRP_COMPLETE_REQUESTS: an IRP completed twice
  kAttemptedSwitchFromDpc = 0xB8,    // ATTEMPTED_SWITCH_FROM_DPC: a wait or yield in a DPC routine
  kIrqlUnexpectedValue = 0xC8,       // IRQL_UNEXPECTED_VALUE: a DPC returned at another IRQL
  kDriverIrqlNotLessOrEqual = 0xD1,  // DRIVER_IRQL_NOT_LESS_OR_EQUAL
};

// IRQL_UNEXPECTED_VALUE's parameter 1 is (current << 16) | (expected << 8) | unique value;
// Microsoft lists unique values 0-3 and 0xfe. A DPC routine is none of those; iocosim uses 4.
constexpr std::uint32_t kUniqueDpcReturn = 4;

const char* bug_check_name(std::uint32_t code);

}  // namespace ke
