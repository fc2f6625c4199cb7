// The PC/AT pair: master and a slave whose INT drives the master's cascade input (`CASCADE`).
// Two INTA strobes from the CPU in consecutive cycles: at the first the master takes a level and,
// if it has a slave, the slave with that identity (CAS2..0) takes its own; at the second the
// chip that took the cascaded level's request drives the vector.
module pic_pair #(
    parameter int CASCADE = 2
) (
    input  logic        clk,
    input  logic        rst,
    input  logic        wr,
    input  logic        rd,
    input  logic        sel_slave,     // which chip `wr`/`rd` address
    input  logic        sel_elcr,      // `wr`/`rd` address the ELCR pair instead (a0: which)
    input  logic        a0,
    input  logic [7:0]  din,
    output logic [7:0]  dout,
    input  logic [15:0] irq,           // IRQ0..15; irq[CASCADE] is ignored (the slave drives it)
    output logic        int_o,
    input  logic        inta1,
    input  logic        inta2,
    output logic [7:0]  vec,
    output logic [7:0]  m_irr, m_isr, m_imr, s_irr, s_isr, s_imr, m_elcr, s_elcr,
    output logic [31:0] m_acks, m_spurious, m_eois, s_acks, s_spurious, s_eois
);
  logic [7:0] m_dout, s_dout, m_vector, s_vector, m_ir;
  logic       s_int, cas_request, cas_latched, cas_answer, unused_m_answer, unused_s_request;
  logic       unused_s_latched;
  logic [2:0] cas_level, unused_s_level;

  always_comb begin
    m_ir = irq[7:0];
    m_ir[CASCADE] = s_int;
  end

  // The edge/level control registers (ELCR1 for the master, ELCR2 for the slave), with the
  // PIIX's write masks: IRQ0, 1, 2 (and the cascade input), 8 and 13 stay edge-sensitive.
  logic chip_wr, chip_rd;
  assign chip_wr = wr && !sel_elcr;
  assign chip_rd = rd && !sel_elcr;
  always_ff @(posedge clk) begin
    if (rst) begin
      m_elcr <= 8'h0;
      s_elcr <= 8'h0;
    end else if (wr && sel_elcr) begin
      if (a0) s_elcr <= din & 8'hde;
      else m_elcr <= din & 8'hf8 & ~(8'h1 << CASCADE);
    end
  end

  pic8259 master (
      .clk, .rst, .sp_en(1'b1),
      .wr(chip_wr && !sel_slave), .rd(chip_rd && !sel_slave), .a0, .din, .dout(m_dout),
      .ir(m_ir), .elcr(m_elcr), .int_o, .inta1, .inta2, .cas_inta1(1'b0), .cas_inta2(1'b0), .cas_id(3'd0),
      .vec(m_vector), .cas_request, .cas_latched, .cas_level, .cas_answer(unused_m_answer),
      .dbg_irr(m_irr), .dbg_isr(m_isr), .dbg_imr(m_imr),
      .dbg_acks(m_acks), .dbg_spurious(m_spurious), .dbg_eois(m_eois));

  pic8259 slave (
      .clk, .rst, .sp_en(1'b0),
      .wr(chip_wr && sel_slave), .rd(chip_rd && sel_slave), .a0, .din, .dout(s_dout),
      .ir(irq[15:8]), .elcr(s_elcr), .int_o(s_int), .inta1(1'b0), .inta2(1'b0),
      .cas_inta1(cas_request), .cas_inta2(inta2 && cas_latched), .cas_id(cas_level),
      .vec(s_vector), .cas_request(unused_s_request), .cas_latched(unused_s_latched),
      .cas_level(unused_s_level),
      .cas_answer,
      .dbg_irr(s_irr), .dbg_isr(s_isr), .dbg_imr(s_imr),
      .dbg_acks(s_acks), .dbg_spurious(s_spurious), .dbg_eois(s_eois));

  assign dout = sel_elcr ? (a0 ? s_elcr : m_elcr) : sel_slave ? s_dout : m_dout;
  // A cascade level nobody answers leaves the data bus floating: all ones.
  assign vec = cas_latched ? (cas_answer ? s_vector : 8'hff) : m_vector;
endmodule
