/*
 * swar: scanning text 8 bytes at a time in a uint64_t ("SIMD within a
 * register"), the same on little- and big-endian machines.
 *
 * swar_load() reads 8 bytes with the first in the low bits on every host.
 * The mask functions give a word with the high bit (0x80) of every byte
 * that matches set, exactly: no carry or borrow runs from one byte into
 * the next, so any mark may be trusted, not only the first.  swar_first()
 * is the index (0..7) of the first marked byte in memory order,
 * swar_count() how many bytes are marked.
 */
#ifndef TIDINGS_SWAR_H
#define TIDINGS_SWAR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SWAR_ONES  0x0101010101010101ULL
#define SWAR_HIGHS 0x8080808080808080ULL

/* The 8 bytes at p, the first in the low bits. */
static inline uint64_t
swar_load(const void *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

/* Bytes from 0x80 on (non-ASCII). */
static inline uint64_t
swar_high(uint64_t x)
{
	return x & SWAR_HIGHS;
}

/*
 * Bytes below c, for c up to 0x80: the low 7 bits plus 0x80 - c carry
 * into the high bit of the byte (and never past it) exactly when they
 * reach c; bytes from 0x80 on are never below.
 */
static inline uint64_t
swar_below(uint64_t x, unsigned char c)
{
	return ~(((x & ~SWAR_HIGHS) + SWAR_ONES * (0x80u - c)) | x) & SWAR_HIGHS;
}

/* Bytes from c on, for c from 0x80: the same carry, among the high bytes. */
static inline uint64_t
swar_at_least(uint64_t x, unsigned char c)
{
	return ((x & ~SWAR_HIGHS) + SWAR_ONES * (0x100u - c)) & x & SWAR_HIGHS;
}

/* Bytes that are 0. */
static inline uint64_t
swar_zero(uint64_t x)
{
	return swar_below(x, 1);
}

/* Bytes equal to c. */
static inline uint64_t
swar_eq(uint64_t x, unsigned char c)
{
	return swar_zero(x ^ (SWAR_ONES * c));
}

/* UTF-8 continuation bytes (10xxxxxx). */
static inline uint64_t
swar_cont(uint64_t x)
{
	return x & ~(x << 1) & SWAR_HIGHS;
}

/* The marks of m in its first k bytes (k from 0 to 8). */
static inline uint64_t
swar_head(uint64_t m, unsigned k)
{
	return k >= 8 ? m : m & (((uint64_t)1 << (8 * k)) - 1);
}

/* The index of the first marked byte of m (m not 0). */
static inline size_t
swar_first(uint64_t m)
{
	return (size_t)__builtin_ctzll(m) / 8;
}

/* How many bytes of m are marked. */
static inline unsigned
swar_count(uint64_t m)
{
	return (unsigned)(((m >> 7) * SWAR_ONES) >> 56);
}

#endif
