#pragma once
// The HAL's interrupt half for the 8259A pair (ReactOS hal/halx86/generic/pic.c, irq.S):
// IRQL <-> PIC priority mapping (a PIC mask per IRQL), eager or lazy IRQL, begin/end system
// interrupt with specific EOI, spurious IRQ7/IRQ15 detection.
//
// Eager IRQL: every IRQL change reprograms the PIC masks to hide every IRQ at or below the new
// level. Lazy IRQL: an IRQL change only records the level; an interrupt that arrives at or below
// it is deferred: the PIC is then masked to the real level, the interrupt EOIed and remembered,
// and the kernel replays it when IRQL drops below its level. Same observable order, fewer PIC
// accesses.
#include <array>
#include <cstdint>

#include "hw/cpu/processor.h"
#include "sw/hal/pic.h"
#include "sw/ke/irql.h"

namespace hal {

enum class IrqlMode { eager, lazy };
enum class HalKind { pic, apic };
// How the APIC HAL routes a device interrupt: to the CPU running at the lowest TPR, or fixed to
// one CPU (IRQ n to CPU n mod count; the clock to CPU 0).
enum class ApicDelivery { lowest, fixed };

// The APIC HAL's vectors. IRQL = TPR class = vector >> 4 (as on x64): device IRQLs 3..12, the
// clock at 13; HIGH_LEVEL (31) is written to TPR as class 15.
constexpr std::uint8_t kApicSpuriousVector = 0xff;
constexpr std::uint8_t kDispatchIpiVector = 0x2f;  // class 2: a DISPATCH_LEVEL request
constexpr std::uint64_t kLocalApic = 0xfee00000;
constexpr std::uint64_t kIoApic = 0xfec00000;

struct HalConfig {
  HalKind kind = HalKind::pic;
  unsigned processors = 1;
  ApicDelivery delivery = ApicDelivery::lowest;
  PicPorts pic;
  std::uint8_t vector_base = 0x30;  // master; the slave uses +8
  IrqlMode mode = IrqlMode::eager;
  // IRQs that are level-triggered (bit n = IRQ n), shareable by several devices; programmed
  // into ELCR at initialization when not empty (the power-on value is all edge).
  std::uint16_t level_irqs = 0;
};

enum class Begin { service, spurious, deferred };

class Hal {
 public:
  struct Stats {
    std::uint64_t mask_programs =
        0;                         // PIC mask writes (spurious/deferred/replayed: ke::KernelStats)
    std::uint64_t tpr_writes = 0;  // APIC HAL: IRQL changes written to the TPR
    std::uint64_t eois = 0;        // APIC HAL: EOIs written to the local APIC
    std::uint64_t redirections = 0;  // APIC HAL: I/O APIC entries programmed
  };

  Hal(hw::Processor& cpu, HalConfig config);

  // HalInitSystem's interrupt part: PIC HAL: vectors, every device IRQ masked. APIC HAL: the
  // 8259A pair fully masked, every I/O APIC input masked (reset state).
  void initialize();
  // HalInitializeProcessor: APIC HAL: this CPU's local APIC enabled (SVR), its flat logical ID,
  // TPR 0. Runs on each CPU as it starts. PIC HAL: nothing.
  void initialize_processor(ke::Irql irql);
  HalKind kind() const { return config_.kind; }
  bool apic() const { return config_.kind == HalKind::apic; }
  unsigned processors() const { return config_.processors; }
  // The IRQL an IRQ's interrupt runs at (PIC HAL: 27 - IRQ; APIC HAL: its vector's class).
  ke::Irql irql_of_irq(unsigned irq) const;
  // The processors an IRQ's interrupt may be delivered to (bit n = CPU n).
  std::uint64_t affinity_of_irq(unsigned irq) const;
  // APIC HAL: a DISPATCH_LEVEL interrupt for processor `cpu` (an IPI at kDispatchIpiVector,
  // which its TPR holds off while that CPU is at DISPATCH_LEVEL or above).
  void request_dispatch_interrupt(unsigned cpu);
  // APIC HAL: the EOI of an IPI or of any vector this CPU's local APIC delivered.
  void local_eoi();
  // HalEnableSystemInterrupt / HalDisableSystemInterrupt. `processors`: the CPUs whose
  // interrupt objects on the line are connected (the union of their ProcessorEnableMasks); the
  // APIC HAL delivers the line only to those, within affinity_of_irq().
  void enable_system_interrupt(unsigned irq, std::uint64_t processors = ~std::uint64_t{0});
  void disable_system_interrupt(unsigned irq);

  // The HAL half of KeRaiseIrql/KeLowerIrql: told of every change.
  void irql_changed(ke::Irql now);

  // HalBeginSystemInterrupt, first half: detects spurious IRQ7/15 and defers (lazy) an
  // interrupt at or below the current IRQL. For Begin::service the kernel then raises IRQL and
  // calls acknowledge_interrupt(), runs the ISRs, and calls end_system_interrupt() before it
  // lowers IRQL again.
  Begin begin_system_interrupt(unsigned irq);
  // The PIC HAL's specific EOI goes out here, before the ISR runs (ReactOS
  // HalBeginSystemInterrupt): from then on the IRQL mask, not the PIC's in-service bit, keeps
  // lower levels out. The APIC HAL sends nothing here.
  void acknowledge_interrupt(unsigned irq);
  // HalEndSystemInterrupt: the APIC HAL's EOI goes out here, after the ISRs have quieted their
  // device (ReactOS hal/halx86/apic: HalEndSystemInterrupt -> ApicSendEOI). An EOI before the
  // ISR would clear the I/O APIC's Remote IRR while a level-triggered line is still asserted,
  // and the same assertion would be delivered again. The PIC HAL sends nothing here.
  void end_system_interrupt(unsigned irq);

  // The highest-IRQL deferred interrupt above `level`, removed from the pending set; -1 if none.
  int take_pending(ke::Irql level);
  bool has_pending() const { return pending_ != 0; }

  int irq_of_vector(std::uint8_t vector) const;
  std::uint8_t vector_of_irq(unsigned irq) const;
  IrqlMode mode() const { return config_.mode; }
  // The interrupt arbiter's half of translation: makes `irq` level-triggered (ELCR) before a
  // device that asked for a level-sensitive, shared line gets it. Idempotent.
  void set_level_triggered(unsigned irq);
  bool level_triggered(unsigned irq) const { return irq < 16 && (config_.level_irqs >> irq & 1); }
  PicPair& pic() { return pic_; }
  const Stats& stats() const { return stats_; }
  // The PIC mask that hides every IRQ at or below `level`, and every IRQ not enabled.
  std::uint16_t mask_for(ke::Irql level) const { return masks_[level & 31]; }

 private:
  void program(ke::Irql level);
  void rebuild_masks();
  void ioapic_write(unsigned reg, std::uint32_t value);
  void program_redirection(unsigned irq, bool masked);

  hw::Processor& cpu_;  // the running processor (hal::CurrentProcessor on several CPUs)
  HalConfig config_;
  PicPair pic_;
  std::uint16_t enabled_ = 0;                   // IRQs with a connected interrupt
  std::array<std::uint64_t, 16> processors_{};  // per IRQ: the CPUs its objects are connected on
  std::array<std::uint16_t, 32> masks_{};   // mask_for() per IRQL, rebuilt when enabled_ changes
  std::uint16_t pending_ = 0;               // lazily deferred IRQs
  ke::Irql level_ = ke::kPassiveLevel;      // the IRQL as the HAL knows it
  ke::Irql pic_level_ = ke::kPassiveLevel;  // the level the PIC mask reflects (lazy)
  Stats stats_;
};

}  // namespace hal
