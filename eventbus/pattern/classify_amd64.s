//go:build !purego

#include "textflag.h"

// Stage 1 of the structural scanner (see classify.go and fastscan.go).
// Both versions read each 64-byte block in vector chunks, turn the bytes
// into 0xFF/0x00 lanes with compares (PCMPEQB, or PMINUB+PCMPEQB for "at
// most"), and pack the lanes' high bits into masks with PMOVMSKB. Then,
// per block, in general registers:
//
//	R8  quote mask, R9 white mask (bytes <= 0x20), R10 control mask (< 0x20)
//	    (the dot and high masks go straight to memory)
//	if the block has a backslash, or starts escaped (R12):
//	    escaped bytes, with simdjson's method, are removed from R8, and
//	    the backslashes that escape are stored in the esc mask (else 0)
//	R11 in = prefix XOR of R8, xor the carry R13 (all ones in a string)
//	R14 |= R10 & R11 (control bytes inside strings: invalid)
//	sig = ^(R9 | (R11 ^ R8))
//
// X15/Y15 collects the unusual bytes (control bytes other than '\t', '\n'
// and '\r'), and X7 (Y6 and Y7 with AVX2) the block's backslashes.
//
// The state carried from one call to the next is a stage1State: at 0 the
// in-string carry, at 8 the escape carry, at 16 the OR of all the escape
// masks.

DATA  bcastQuote<>+0(SB)/8, $0x2222222222222222
DATA  bcastQuote<>+8(SB)/8, $0x2222222222222222
DATA  bcastQuote<>+16(SB)/8, $0x2222222222222222
DATA  bcastQuote<>+24(SB)/8, $0x2222222222222222
GLOBL bcastQuote<>(SB), RODATA|NOPTR, $32

DATA  bcastSpace<>+0(SB)/8, $0x2020202020202020
DATA  bcastSpace<>+8(SB)/8, $0x2020202020202020
DATA  bcastSpace<>+16(SB)/8, $0x2020202020202020
DATA  bcastSpace<>+24(SB)/8, $0x2020202020202020
GLOBL bcastSpace<>(SB), RODATA|NOPTR, $32

DATA  bcastUS<>+0(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA  bcastUS<>+8(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA  bcastUS<>+16(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA  bcastUS<>+24(SB)/8, $0x1f1f1f1f1f1f1f1f
GLOBL bcastUS<>(SB), RODATA|NOPTR, $32

DATA  bcastNL<>+0(SB)/8, $0x0a0a0a0a0a0a0a0a
DATA  bcastNL<>+8(SB)/8, $0x0a0a0a0a0a0a0a0a
DATA  bcastNL<>+16(SB)/8, $0x0a0a0a0a0a0a0a0a
DATA  bcastNL<>+24(SB)/8, $0x0a0a0a0a0a0a0a0a
GLOBL bcastNL<>(SB), RODATA|NOPTR, $32

DATA  bcastBackslash<>+0(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA  bcastBackslash<>+8(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA  bcastBackslash<>+16(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA  bcastBackslash<>+24(SB)/8, $0x5c5c5c5c5c5c5c5c
GLOBL bcastBackslash<>(SB), RODATA|NOPTR, $32

DATA  bcastDot<>+0(SB)/8, $0x2e2e2e2e2e2e2e2e
DATA  bcastDot<>+8(SB)/8, $0x2e2e2e2e2e2e2e2e
DATA  bcastDot<>+16(SB)/8, $0x2e2e2e2e2e2e2e2e
DATA  bcastDot<>+24(SB)/8, $0x2e2e2e2e2e2e2e2e
GLOBL bcastDot<>(SB), RODATA|NOPTR, $32

DATA  bcastTab<>+0(SB)/8, $0x0909090909090909
DATA  bcastTab<>+8(SB)/8, $0x0909090909090909
GLOBL bcastTab<>(SB), RODATA|NOPTR, $16

DATA  bcastCR<>+0(SB)/8, $0x0d0d0d0d0d0d0d0d
DATA  bcastCR<>+8(SB)/8, $0x0d0d0d0d0d0d0d0d
GLOBL bcastCR<>(SB), RODATA|NOPTR, $16

// wsCtlTable, indexed by a byte's low nibble, is 0xFF for '\t', '\n' and
// '\r' (both 128-bit lanes alike, for VPSHUFB).
DATA  wsCtlTable<>+0(SB)/8, $0
DATA  wsCtlTable<>+8(SB)/8, $0x0000ff0000ffff00
DATA  wsCtlTable<>+16(SB)/8, $0
DATA  wsCtlTable<>+24(SB)/8, $0x0000ff0000ffff00
GLOBL wsCtlTable<>(SB), RODATA|NOPTR, $32

DATA  bcast70<>+0(SB)/8, $0x7070707070707070
DATA  bcast70<>+8(SB)/8, $0x7070707070707070
DATA  bcast70<>+16(SB)/8, $0x7070707070707070
DATA  bcast70<>+24(SB)/8, $0x7070707070707070
GLOBL bcast70<>(SB), RODATA|NOPTR, $32

DATA  allOnes<>+0(SB)/8, $-1
DATA  allOnes<>+8(SB)/8, $0
GLOBL allOnes<>(SB), RODATA|NOPTR, $16

// Offsets in blockMasks.
#define QUOTE 0
#define SIG 8
#define DOT 16
#define HIGH 24
#define ESC 32
#define BLOCKSIZE 40

// ESCAPES computes, for a block whose backslash mask is in BX, the
// escaped bytes (removed from the quote mask R8) and the escaping
// backslashes (stored in the block's esc mask), following simdjson: the
// backslashes not escaped themselves are potential escapes; adding, to
// the odd bits of their runs shifted by one, their runs subtracted, leaves
// the escapes at the even offsets of each run. R12 is the escape carry:
// 1 when the block's first byte is escaped. The escapes are also ORed into
// the state's escape summary. Uses AX, BX, DX, R11.
#define ESCAPES \
	MOVQ R12, AX      \
	NOTQ AX           \
	ANDQ BX, AX       \
	MOVQ AX, DX       \
	SHLQ $1, DX       \
	MOVQ $0xaaaaaaaaaaaaaaaa, R11 \
	ORQ  R11, DX      \
	SUBQ AX, DX       \
	XORQ R11, DX      \
	MOVQ BX, AX       \
	ORQ  R12, AX      \
	XORQ DX, AX       \
	ANDQ BX, DX       \
	MOVQ DX, ESC(DI)  \
	MOVQ DX, R12      \
	SHRQ $63, R12     \
	NOTQ AX           \
	ANDQ AX, R8       \
	MOVQ state+16(FP), AX \
	ORQ  DX, 16(AX)

// BLOCKEND finishes a block whose masks are in R8, R9 and R10, with the
// string mask R11 already holding the prefix XOR of R8; it stores the
// quote and significant masks and moves to the next block.
#define BLOCKEND \
	XORQ R13, R11 \
	MOVQ R11, R13 \
	SARQ $63, R13 \
	ANDQ R11, R10 \
	ORQ  R10, R14 \
	XORQ R8, R11  \
	ORQ  R9, R11  \
	NOTQ R11      \
	MOVQ R8, QUOTE(DI) \
	MOVQ R11, SIG(DI)  \
	ADDQ $64, SI  \
	ADDQ $BLOCKSIZE, DI

// CHUNK classifies the 16 bytes at off(SI) into the 16-bit masks AX
// (quotes), BX (bytes <= 0x20) and DX (bytes < 0x20), stores the masks of
// the dots and of the bytes >= 0x80 into bits off..off+15 of their masks,
// ORs the backslashes into X7 and the unusual bytes (control bytes that
// are not '\n' (X11), '\t' (X14) or '\r' (X6)) into X15.
#define CHUNK(off) \
	MOVOU    off(SI), X0 \
	MOVO     X0, X1      \
	PCMPEQB  X8, X1      \
	PMOVMSKB X1, AX      \
	MOVO     X0, X2      \
	PMINUB   X9, X2      \
	PCMPEQB  X0, X2      \
	PMOVMSKB X2, BX      \
	MOVO     X0, X3      \
	PMINUB   X10, X3     \
	PCMPEQB  X0, X3      \
	PMOVMSKB X3, DX      \
	MOVO     X0, X5      \
	PCMPEQB  X13, X5     \
	PMOVMSKB X5, R11     \
	MOVW     R11, (DOT+off/8)(DI) \
	PMOVMSKB X0, R11     \
	MOVW     R11, (HIGH+off/8)(DI) \
	MOVO     X0, X5      \
	PCMPEQB  X12, X5     \
	POR      X5, X7      \
	MOVO     X0, X4      \
	PCMPEQB  X11, X4     \
	MOVO     X0, X5      \
	PCMPEQB  X14, X5     \
	POR      X5, X4      \
	PCMPEQB  X6, X0      \
	POR      X0, X4      \
	PANDN    X3, X4      \
	POR      X4, X15

// BACKSLASHES16 ORs the backslashes of the 16 bytes at off(SI), shifted
// to bit off, into BX. Uses X0 and AX.
#define BACKSLASHES16(off) \
	MOVOU    off(SI), X0 \
	PCMPEQB  X12, X0     \
	PMOVMSKB X0, AX      \
	SHLQ     $off, AX    \
	ORQ      AX, BX

// PLACE shifts the chunk masks into bit position sh and ORs them into the
// block masks R8, R9 and R10.
#define PLACE(sh) \
	SHLQ $sh, AX \
	SHLQ $sh, BX \
	SHLQ $sh, DX \
	ORQ  AX, R8  \
	ORQ  BX, R9  \
	ORQ  DX, R10

// PREFIXXOR1 is one step of the prefix XOR of R11: R11 ^= R11 << sh.
#define PREFIXXOR1(sh) \
	MOVQ R11, AX \
	SHLQ $sh, AX \
	XORQ AX, R11

// LOADSTATE and STORESTATE move the carries between the stage1State and
// R13 (in string) and R12 (escaped).
#define LOADSTATE \
	MOVQ state+16(FP), BX \
	MOVQ 0(BX), R13 \
	MOVQ 8(BX), R12

#define STORESTATE \
	MOVQ state+16(FP), BX \
	MOVQ R13, 0(BX) \
	MOVQ R12, 8(BX)

// func classifyBlocksSSE2(p *byte, n int, state *stage1State, out *blockMasks) (ok bool)
TEXT ·classifyBlocksSSE2(SB), NOSPLIT, $0-33
	MOVQ  p+0(FP), SI
	MOVQ  n+8(FP), CX
	MOVQ  out+24(FP), DI
	MOVOU bcastQuote<>(SB), X8
	MOVOU bcastSpace<>(SB), X9
	MOVOU bcastUS<>(SB), X10
	MOVOU bcastNL<>(SB), X11
	MOVOU bcastBackslash<>(SB), X12
	MOVOU bcastDot<>(SB), X13
	MOVOU bcastTab<>(SB), X14
	MOVOU bcastCR<>(SB), X6
	LOADSTATE
	PXOR  X15, X15
	XORQ  R14, R14
	TESTQ CX, CX
	JZ    sse2done

sse2loop:
	PXOR X7, X7
	CHUNK(0)
	MOVQ AX, R8
	MOVQ BX, R9
	MOVQ DX, R10
	CHUNK(16)
	PLACE(16)
	CHUNK(32)
	PLACE(32)
	CHUNK(48)
	PLACE(48)
	MOVQ     $0, ESC(DI)
	PMOVMSKB X7, AX
	ORQ      R12, AX
	JNZ      sse2escapes

sse2strings:
	MOVQ R8, R11
	PREFIXXOR1(1)
	PREFIXXOR1(2)
	PREFIXXOR1(4)
	PREFIXXOR1(8)
	PREFIXXOR1(16)
	PREFIXXOR1(32)
	BLOCKEND
	DECQ CX
	JNZ  sse2loop

sse2done:
	STORESTATE
	PMOVMSKB X15, AX
	ORQ      R14, AX
	SETEQ    ok+32(FP)
	RET

sse2escapes:
	XORQ BX, BX
	BACKSLASHES16(0)
	BACKSLASHES16(16)
	BACKSLASHES16(32)
	BACKSLASHES16(48)
	ESCAPES
	JMP  sse2strings

// HALF is CHUNK for the 32 bytes at off(SI), with AVX2; the masks are 32
// bits, the backslashes are left in bs and the unusual bytes ORed into
// Y15. The whitespace control bytes are looked up in wsCtlTable (Y11) by
// VPSHUFB, after a saturating add of 0x70 (Y14) that sends every byte from
// 0x10 up to an index with its high bit set, for which VPSHUFB gives 0.
#define HALF(off, bs) \
	VMOVDQU   off(SI), Y0     \
	VPCMPEQB  Y8, Y0, Y1      \
	VPMOVMSKB Y1, AX          \
	VPMINUB   Y9, Y0, Y2      \
	VPCMPEQB  Y0, Y2, Y2      \
	VPMOVMSKB Y2, BX          \
	VPMINUB   Y10, Y0, Y3     \
	VPCMPEQB  Y0, Y3, Y3      \
	VPMOVMSKB Y3, DX          \
	VPCMPEQB  Y13, Y0, Y5     \
	VPMOVMSKB Y5, R11         \
	MOVL      R11, (DOT+off/8)(DI) \
	VPMOVMSKB Y0, R11         \
	MOVL      R11, (HIGH+off/8)(DI) \
	VPCMPEQB  Y12, Y0, bs     \
	VPADDUSB  Y14, Y0, Y4     \
	VPSHUFB   Y4, Y11, Y4     \
	VPANDN    Y3, Y4, Y4      \
	VPOR      Y4, Y15, Y15

// func classifyBlocksAVX2(p *byte, n int, state *stage1State, out *blockMasks) (ok bool)
//
// It needs AVX2 and PCLMULQDQ (see cpuAVX2CLMUL): the prefix XOR is a
// carry-less multiplication by all ones. It uses VEX encodings only, so
// that no legacy SSE instruction meets dirty upper halves of Y registers.
TEXT ·classifyBlocksAVX2(SB), NOSPLIT, $0-33
	MOVQ    p+0(FP), SI
	MOVQ    n+8(FP), CX
	MOVQ    out+24(FP), DI
	VMOVDQU bcastQuote<>(SB), Y8
	VMOVDQU bcastSpace<>(SB), Y9
	VMOVDQU bcastUS<>(SB), Y10
	VMOVDQU wsCtlTable<>(SB), Y11
	VMOVDQU bcastBackslash<>(SB), Y12
	VMOVDQU bcastDot<>(SB), Y13
	VMOVDQU bcast70<>(SB), Y14
	LOADSTATE
	VPXOR   Y15, Y15, Y15
	XORQ    R14, R14
	TESTQ   CX, CX
	JZ      avx2done

avx2loop:
	HALF(0, Y6)
	MOVL  AX, R8
	MOVL  BX, R9
	MOVL  DX, R10
	HALF(32, Y7)
	SHLQ  $32, AX
	SHLQ  $32, BX
	SHLQ  $32, DX
	ORQ   AX, R8
	ORQ   BX, R9
	ORQ   DX, R10
	MOVQ  $0, ESC(DI)
	VPOR  Y6, Y7, Y1
	VPTEST Y1, Y1
	JNZ   avx2escapes
	TESTQ R12, R12
	JNZ   avx2escapes

avx2strings:
	VMOVQ      R8, X0
	VPCLMULQDQ $0x00, allOnes<>(SB), X0, X0
	VMOVQ      X0, R11
	BLOCKEND
	DECQ CX
	JNZ  avx2loop

avx2done:
	STORESTATE
	VPMOVMSKB Y15, AX
	VZEROUPPER
	ORQ       R14, AX
	SETEQ     ok+32(FP)
	RET

avx2escapes:
	VPMOVMSKB Y6, BX
	VPMOVMSKB Y7, AX
	SHLQ      $32, AX
	ORQ       AX, BX
	ESCAPES
	JMP       avx2strings

// func cpuAVX2CLMUL() bool
TEXT ·cpuAVX2CLMUL(SB), NOSPLIT, $0-1
	XORL  AX, AX
	XORL  CX, CX
	CPUID
	CMPL  AX, $7
	JLT   no
	MOVL  $1, AX
	XORL  CX, CX
	CPUID
	// PCLMULQDQ (bit 1), OSXSAVE (bit 27) and AVX (bit 28).
	ANDL  $0x18000002, CX
	CMPL  CX, $0x18000002
	JNE   no
	// The OS saves the XMM and YMM registers (XCR0 bits 1 and 2).
	XORL  CX, CX
	XGETBV
	ANDL  $6, AX
	CMPL  AX, $6
	JNE   no
	MOVL  $7, AX
	XORL  CX, CX
	CPUID
	// AVX2 (bit 5).
	BTL   $5, BX
	JCC   no
	MOVB  $1, ret+0(FP)
	RET

no:
	MOVB $0, ret+0(FP)
	RET
