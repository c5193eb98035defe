// SPDX-License-Identifier: Apache-2.0
/*
 * core-relo-check: resolves every CO-RE relocation of BPF objects against one
 * kernel's BTF, without loading anything, and reports each relocation that
 * would not resolve on that kernel.
 *
 *   core-relo-check [-v] <kernel BTF> <object.bpf.o>...
 *
 * Built against the system libbpf (test/unit/bpf-core-relocations.test.ts
 * does it):  cc -O2 -o core-relo-check hack/core-relo-check.c $(pkg-config --cflags --libs libbpf)
 * The kernel BTF of an architecture comes from hack/kernel-btf.sh.
 *
 * libbpf (1.1 here) relocates only inside bpf_object__load, against the
 * running kernel, and an unresolved relocation surfaces there only as a
 * poisoned instruction that the verifier rejects if it can reach it. This
 * checks any kernel's BTF from any machine (another architecture's too): it
 * reads the relocation records of .BTF.ext and resolves each against the
 * kernel's types with libbpf's BTF API, by CO-RE's rules:
 *  - the candidates are the kernel's types of the same kind whose name is the
 *    local name without its ___flavour suffix;
 *  - a field access is followed member by member (by name, also through the
 *    kernel's anonymous structs and unions) and element by element (within
 *    bounds unless the array is flexible), and each member's type must be
 *    compatible with the program's;
 *  - candidates that match must agree on the result, else libbpf refuses;
 *  - a direct load or store of a field whose size differs on the kernel must
 *    be one libbpf can resize (a pointer, an unsigned integer);
 *  - the instruction must hold the value the object's own types give (a
 *    check of this tool's arithmetic against clang's).
 * Existence checks (bpf_core_field_exists, bpf_core_type_exists,
 * bpf_core_type_matches, bpf_core_enum_value_exists) may find nothing: they
 * yield 0 ("absent"). Any other relocation that finds nothing fails, unless an
 * existence check in the same program asks about it (the same root type, and
 * for fields a prefix of its access path) and finds nothing ("guarded"): the
 * idiom `if (bpf_core_field_exists(p->f)) x = BPF_CORE_READ(p, f);`.
 *
 * Prints a line per relocation that failed, is guarded or absent (with -v per
 * resolved one too, with its value in the object and on the kernel):
 *   <failed|guarded|absent|resolved> <object> <program> insn <n> <kind> <access>: <why or values>
 * then one line per object:
 *   <object>: relocations=N resolved=N absent=N guarded=N failed=N
 * Exit status: 0 when none failed, 1 when one failed, 2 when an input could
 * not be read.
 */
#include <bpf/btf.h>
#include <elf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ACCESS 64
#define MAX_DEPTH 32

static const char *const kind_names[] = {
	[BPF_CORE_FIELD_BYTE_OFFSET] = "field_byte_offset",
	[BPF_CORE_FIELD_BYTE_SIZE] = "field_byte_size",
	[BPF_CORE_FIELD_EXISTS] = "field_exists",
	[BPF_CORE_FIELD_SIGNED] = "field_signed",
	[BPF_CORE_FIELD_LSHIFT_U64] = "field_lshift_u64",
	[BPF_CORE_FIELD_RSHIFT_U64] = "field_rshift_u64",
	[BPF_CORE_TYPE_ID_LOCAL] = "type_id_local",
	[BPF_CORE_TYPE_ID_TARGET] = "type_id_target",
	[BPF_CORE_TYPE_EXISTS] = "type_exists",
	[BPF_CORE_TYPE_SIZE] = "type_size",
	[BPF_CORE_ENUMVAL_EXISTS] = "enumval_exists",
	[BPF_CORE_ENUMVAL_VALUE] = "enumval_value",
	[BPF_CORE_TYPE_MATCHES] = "type_matches",
};
#define KIND_COUNT (sizeof(kind_names) / sizeof(kind_names[0]))

static bool is_field_kind(__u32 kind) { return kind <= BPF_CORE_FIELD_RSHIFT_U64; }

static bool is_enumval_kind(__u32 kind)
{
	return kind == BPF_CORE_ENUMVAL_EXISTS || kind == BPF_CORE_ENUMVAL_VALUE;
}

/* The kinds that ask "is it there?": finding nothing is their answer, 0. */
static bool is_guard_kind(__u32 kind)
{
	return kind == BPF_CORE_FIELD_EXISTS || kind == BPF_CORE_TYPE_EXISTS ||
	       kind == BPF_CORE_TYPE_MATCHES || kind == BPF_CORE_ENUMVAL_EXISTS;
}

/* ---- names and types ---- */

/* The length of a name without its flavour: "task_struct___v2" -> 11. The
 * separator is the last "___" with a non-underscore on either side. */
static size_t essential_len(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = n; i-- > 1;)
		if (i + 4 <= n && !strncmp(name + i, "___", 3) && name[i - 1] != '_' && name[i + 3] != '_')
			return i;
	return n;
}

static bool essential_names_equal(const char *a, const char *b)
{
	size_t la = essential_len(a), lb = essential_len(b);

	return la == lb && !strncmp(a, b, la);
}

static const char *type_name(const struct btf *btf, const struct btf_type *t)
{
	return btf__name_by_offset(btf, t->name_off) ?: "";
}

static const struct btf_type *skip_mods_and_typedefs(const struct btf *btf, __u32 id, __u32 *res_id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_mod(t) || btf_is_typedef(t))) {
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	if (res_id)
		*res_id = id;
	return t;
}

static const char *kind_word(const struct btf_type *t)
{
	switch (btf_kind(t)) {
	case BTF_KIND_STRUCT: return "struct";
	case BTF_KIND_UNION: return "union";
	case BTF_KIND_ENUM: case BTF_KIND_ENUM64: return "enum";
	case BTF_KIND_TYPEDEF: return "typedef";
	case BTF_KIND_FWD: return "forward declaration";
	case BTF_KIND_INT: return "int";
	case BTF_KIND_PTR: return "pointer";
	case BTF_KIND_ARRAY: return "array";
	case BTF_KIND_FLOAT: return "float";
	case BTF_KIND_FUNC_PROTO: return "function";
	default: return "type";
	}
}

/* Enumerator i of an enum or enum64: its name and value. */
static bool enumerator(const struct btf *btf, const struct btf_type *t, __u32 i, const char **name, __u64 *value)
{
	if (btf_is_enum(t)) {
		const struct btf_enum *e = btf_enum(t) + i;

		*name = btf__name_by_offset(btf, e->name_off);
		*value = btf_kflag(t) ? (__u64)(__s64)e->val : (__u32)e->val;
	} else {
		const __u32 *e = (const __u32 *)btf_enum64(t) + 3 * i; /* name_off, lo32, hi32 */

		*name = btf__name_by_offset(btf, e[0]);
		*value = btf_enum64_value((const struct btf_enum64 *)e);
	}
	return *name != NULL;
}

/* May a field of local type lid be read as a field of kernel type tid? */
static bool fields_compatible(const struct btf *lbtf, __u32 lid, const struct btf *tbtf, __u32 tid)
{
	for (int depth = 0; depth < MAX_DEPTH; depth++) {
		const struct btf_type *l = skip_mods_and_typedefs(lbtf, lid, &lid);
		const struct btf_type *t = skip_mods_and_typedefs(tbtf, tid, &tid);

		if (!l || !t)
			return false;
		if (btf_is_composite(l) && btf_is_composite(t))
			return true;
		if (!btf_kind_core_compat(l, t))
			return false;
		switch (btf_kind(l)) {
		case BTF_KIND_PTR:
		case BTF_KIND_FLOAT:
			return true;
		case BTF_KIND_FWD:
		case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64: {
			const char *ln = type_name(lbtf, l), *tn = type_name(tbtf, t);

			return !*ln || !*tn || essential_names_equal(ln, tn);
		}
		case BTF_KIND_INT:
			/* Old-style bitfield integers (a bit offset inside the int) never match. */
			return btf_int_offset(l) == 0 && btf_int_offset(t) == 0;
		case BTF_KIND_ARRAY:
			lid = btf_array(l)->type;
			tid = btf_array(t)->type;
			continue;
		default:
			return false;
		}
	}
	return false;
}

/* Is kernel type tid a stand-in for local type lid (type-based relocations)? */
static bool types_compatible(const struct btf *lbtf, __u32 lid, const struct btf *tbtf, __u32 tid, int depth)
{
	const struct btf_type *l = skip_mods_and_typedefs(lbtf, lid, &lid);
	const struct btf_type *t = skip_mods_and_typedefs(tbtf, tid, &tid);

	if (!l || !t || depth > MAX_DEPTH || !btf_kind_core_compat(l, t))
		return false;
	switch (btf_kind(l)) {
	case BTF_KIND_UNKN:
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
	case BTF_KIND_FWD:
	case BTF_KIND_FLOAT:
		return true;
	case BTF_KIND_INT:
		return btf_int_offset(l) == 0 && btf_int_offset(t) == 0;
	case BTF_KIND_PTR:
		return types_compatible(lbtf, l->type, tbtf, t->type, depth + 1);
	case BTF_KIND_ARRAY:
		return types_compatible(lbtf, btf_array(l)->type, tbtf, btf_array(t)->type, depth + 1);
	case BTF_KIND_FUNC_PROTO: {
		const struct btf_param *lp = btf_params(l), *tp = btf_params(t);

		if (btf_vlen(l) != btf_vlen(t))
			return false;
		for (__u16 i = 0; i < btf_vlen(l); i++)
			if (!types_compatible(lbtf, lp[i].type, tbtf, tp[i].type, depth + 1))
				return false;
		return types_compatible(lbtf, l->type, tbtf, t->type, depth + 1);
	}
	default:
		return false;
	}
}

/* ---- the kernel's types, by name without flavour ---- */

struct named_type {
	const char *name;
	size_t len;
	__u32 id;
};

struct target {
	const struct btf *btf;
	struct named_type *names; /* sorted by name, then id */
	size_t count;
};

static int compare_named(const void *a, const void *b)
{
	const struct named_type *x = a, *y = b;
	int c = strncmp(x->name, y->name, x->len < y->len ? x->len : y->len);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int index_target(struct target *target, const struct btf *btf)
{
	__u32 n = btf__type_cnt(btf);

	*target = (struct target){ btf, calloc(n, sizeof(*target->names)), 0 };
	if (!target->names)
		return -ENOMEM;
	for (__u32 id = 1; id < n; id++) {
		const char *name = type_name(btf, btf__type_by_id(btf, id));

		if (*name)
			target->names[target->count++] = (struct named_type){ name, essential_len(name), id };
	}
	qsort(target->names, target->count, sizeof(*target->names), compare_named);
	return 0;
}

/* The kernel types named `name` (flavours aside): names[*first .. *first + result). */
static size_t find_named(const struct target *target, const char *name, size_t *first)
{
	struct named_type key = { name, essential_len(name), 0 };
	size_t lo = 0, hi = target->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (compare_named(&target->names[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	for (hi = lo; hi < target->count; hi++)
		if (target->names[hi].len != key.len || strncmp(target->names[hi].name, name, key.len))
			break;
	return hi - lo;
}

/* ---- field accesses ---- */

/* One named step of a field access: a member (by name) or an array element. */
struct step {
	bool element;
	__u32 index;      /* the element's index */
	const char *name; /* the member's name */
	__u32 type_id;    /* the local type the step reaches */
};

/* A field access as the program wrote it, without its anonymous members. */
struct access {
	__u32 first; /* p[first]: the root pointer used as an array */
	int count;
	struct step steps[MAX_ACCESS];
};

/* Where a field lies, on one side. */
struct field {
	__u64 bit_off;
	__u32 bit_size; /* the bitfield's width; 0 when not a bitfield */
	__u32 type_id;
};

/* The member an access step went through last: an array there that has no
 * elements and ends its struct is flexible, and may be indexed at will. */
struct parent {
	__u32 id; /* 0 when the last step was not a member */
	__u32 index;
};

static bool flexible(const struct btf *btf, const struct btf_array *a, const struct parent *parent)
{
	return !a->nelems && parent->id && parent->index + 1 == btf_vlen(btf__type_by_id(btf, parent->id));
}

/* clang's access string, "0:1:2", as numbers. */
static int parse_indices(const char *text, __u32 *out, int max)
{
	int n = 0;

	while (*text) {
		char *end;
		unsigned long v = strtoul(text, &end, 10);

		if (end == text || n == max)
			return -1;
		out[n++] = (__u32)v;
		if (*end == ':')
			end++;
		else if (*end)
			return -1;
		text = end;
	}
	return n;
}

/* Follows the raw access (indices of members and elements) through the object's types. */
static const char *walk_local(const struct btf *btf, __u32 root, const __u32 *raw, int n, struct access *acc,
			      struct field *field)
{
	struct parent parent = { 0, 0 };
	__u32 id;
	const struct btf_type *t = skip_mods_and_typedefs(btf, root, &id);
	__s64 size = btf__resolve_size(btf, id);

	if (!t || size < 0)
		return "the object's root type has no size";
	acc->first = raw[0];
	acc->count = 0;
	*field = (struct field){ (__u64)raw[0] * size * 8, 0, id };
	for (int i = 1; i < n; i++) {
		if (!(t = skip_mods_and_typedefs(btf, id, &id)))
			return "the object's access reaches a type it does not have";
		if (btf_is_composite(t)) {
			const struct btf_member *m;
			const char *name;

			if (raw[i] >= btf_vlen(t))
				return "the object's member index is out of range";
			m = btf_members(t) + raw[i];
			field->bit_off += btf_member_bit_offset(t, raw[i]);
			field->bit_size = btf_member_bitfield_size(t, raw[i]);
			parent = (struct parent){ id, raw[i] };
			id = m->type;
			name = btf__name_by_offset(btf, m->name_off);
			if (name && *name)
				acc->steps[acc->count++] = (struct step){ false, raw[i], name, id };
		} else if (btf_is_array(t)) {
			const struct btf_array *a = btf_array(t);
			__s64 elem = btf__resolve_size(btf, a->type);

			if (elem < 0 || (raw[i] >= a->nelems && !flexible(btf, a, &parent)))
				return "the object's array index is out of range";
			field->bit_off += (__u64)raw[i] * elem * 8;
			field->bit_size = 0;
			parent.id = 0;
			id = a->type;
			acc->steps[acc->count++] = (struct step){ true, raw[i], NULL, id };
		} else {
			return "the object's access goes into a type without members";
		}
	}
	field->type_id = id;
	return NULL;
}

/* Finds member `name` of composite `id`, also inside its anonymous members. */
static bool find_member(const struct btf *btf, __u32 id, const char *name, int depth, struct field *found,
			struct parent *parent)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const struct btf_member *m = btf_members(t);

	if (depth > MAX_DEPTH)
		return false;
	for (__u16 i = 0; i < btf_vlen(t); i++, m++) {
		const char *member = btf__name_by_offset(btf, m->name_off) ?: "";
		__u32 inner;

		if (*member) {
			if (strcmp(member, name))
				continue;
			*found = (struct field){ btf_member_bit_offset(t, i), btf_member_bitfield_size(t, i), m->type };
			*parent = (struct parent){ id, i };
			return true;
		}
		if (btf_is_composite(skip_mods_and_typedefs(btf, m->type, &inner)) &&
		    find_member(btf, inner, name, depth + 1, found, parent)) {
			found->bit_off += btf_member_bit_offset(t, i);
			return true;
		}
	}
	return false;
}

/* Follows the access through kernel type `cand`: NULL when it gets there, else why not. */
static const char *walk_target(const struct btf *lbtf, const struct access *acc, const struct btf *tbtf,
			       __u32 cand, struct field *field, char *why, size_t why_len)
{
	struct parent parent = { 0, 0 };
	__u32 id;
	const struct btf_type *t = skip_mods_and_typedefs(tbtf, cand, &id);
	__s64 size = btf__resolve_size(tbtf, id);

	if (size < 0)
		return "the kernel's type has no size";
	*field = (struct field){ (__u64)acc->first * size * 8, 0, id };
	for (int i = 0; i < acc->count; i++) {
		const struct step *s = &acc->steps[i];

		t = skip_mods_and_typedefs(tbtf, id, &id);
		if (s->element) {
			const struct btf_array *a;
			__s64 elem;

			if (!btf_is_array(t)) {
				snprintf(why, why_len, "index [%u] into a non-array (%s) on the kernel", s->index, kind_word(t));
				return why;
			}
			a = btf_array(t);
			if (s->index >= a->nelems && !flexible(tbtf, a, &parent)) {
				snprintf(why, why_len, "index [%u] is past the kernel's %u elements", s->index, a->nelems);
				return why;
			}
			if ((elem = btf__resolve_size(tbtf, a->type)) < 0)
				return "the kernel's array element has no size";
			field->bit_off += (__u64)s->index * elem * 8;
			field->bit_size = 0;
			parent.id = 0;
			id = a->type;
		} else {
			struct field member;

			if (!btf_is_composite(t)) {
				snprintf(why, why_len, "member %s of a non-struct (%s) on the kernel", s->name, kind_word(t));
				return why;
			}
			if (!find_member(tbtf, id, s->name, 0, &member, &parent)) {
				snprintf(why, why_len, "%s %s has no member %s on the kernel", kind_word(t),
					 *type_name(tbtf, t) ? type_name(tbtf, t) : "(anonymous)", s->name);
				return why;
			}
			if (!fields_compatible(lbtf, s->type_id, tbtf, member.type_id)) {
				snprintf(why, why_len, "member %s: %s in the object, %s on the kernel", s->name,
					 kind_word(skip_mods_and_typedefs(lbtf, s->type_id, NULL)),
					 kind_word(skip_mods_and_typedefs(tbtf, member.type_id, NULL)));
				return why;
			}
			field->bit_off += member.bit_off;
			field->bit_size = member.bit_size;
			id = member.type_id;
		}
	}
	field->type_id = id;
	return NULL;
}

/* ---- what a relocation resolves to ---- */

/* A relocation's result on one side: the object's types, or a kernel's. */
struct answer {
	__u64 value;        /* what the instruction gets */
	__u32 type_id;      /* the type found (for fields, the field's type) */
	struct field field; /* field relocations: where the field lies */
	__u32 size;         /* field relocations: the bytes to load it */
};

/* Fills a field relocation's value from where the field lies. */
static const char *field_answer(const struct btf *btf, __u32 kind, const struct field *f, struct answer *ans)
{
	const struct btf_type *t = skip_mods_and_typedefs(btf, f->type_id, NULL);
	__s64 size = btf__resolve_size(btf, f->type_id);
	__u64 byte_off;
	__u32 bit_size, bytes;

	if (size < 0 || (f->bit_size && !size))
		return "the field has no size";
	bytes = size;
	if (f->bit_size) {
		/* A bitfield is read as the smallest aligned chunk, of its
		 * integer's size or a multiple, that holds all its bits. */
		bit_size = f->bit_size;
		byte_off = f->bit_off / 8 / bytes * bytes;
		while (f->bit_off + bit_size - byte_off * 8 > bytes * 8) {
			if (bytes >= 8)
				return "the bitfield spans more than 8 bytes";
			bytes *= 2;
			byte_off = f->bit_off / 8 / bytes * bytes;
		}
	} else {
		if (f->bit_off % 8)
			return "the field does not start on a byte";
		bit_size = bytes * 8;
		byte_off = f->bit_off / 8;
	}
	ans->field = *f;
	ans->type_id = f->type_id;
	ans->size = bytes;
	switch (kind) {
	case BPF_CORE_FIELD_BYTE_OFFSET: ans->value = byte_off; break;
	case BPF_CORE_FIELD_BYTE_SIZE: ans->value = bytes; break;
	case BPF_CORE_FIELD_EXISTS: ans->value = 1; break;
	case BPF_CORE_FIELD_SIGNED:
		ans->value = (btf_is_any_enum(t) && btf_kflag(t)) ||
			     (btf_is_int(t) && (btf_int_encoding(t) & BTF_INT_SIGNED));
		break;
	case BPF_CORE_FIELD_LSHIFT_U64:
	case BPF_CORE_FIELD_RSHIFT_U64:
		if (bit_size > 64)
			return "the field is wider than 64 bits";
		/* Shifts that isolate the field from a little-endian load into 64 bits. */
		ans->value = kind == BPF_CORE_FIELD_LSHIFT_U64 ? 64 - (f->bit_off + bit_size - byte_off * 8)
							       : 64 - bit_size;
		break;
	}
	return NULL;
}

/* One relocation record, and what became of it. */
struct relocation {
	const char *section;
	const char *program; /* the function whose code it patches */
	__u32 insn;          /* the instruction's index in that function */
	struct bpf_core_relo relo;
	__u32 raw[MAX_ACCESS];
	int raw_count;
	enum { RESOLVED, NOT_FOUND, FAILED } outcome;
	struct answer local, kernel;
	__u32 candidate; /* the kernel type that answered */
	char message[256];
};

/* Fills r->local from the object's types: what the program asks for, and the
 * value clang put in the instruction. */
static const char *local_answer(const struct btf *btf, const struct relocation *r, struct access *acc,
				struct answer *ans)
{
	const __u32 kind = r->relo.kind;
	const char *err;

	*ans = (struct answer){ .value = 1, .type_id = r->relo.type_id };
	if (is_field_kind(kind)) {
		struct field f;

		if ((err = walk_local(btf, r->relo.type_id, r->raw, r->raw_count, acc, &f)))
			return err;
		return field_answer(btf, kind, &f, ans);
	}
	if (is_enumval_kind(kind)) {
		const struct btf_type *t = skip_mods_and_typedefs(btf, r->relo.type_id, NULL);
		const char *name;

		if (!t || !btf_is_any_enum(t) || r->raw_count != 1 || r->raw[0] >= btf_vlen(t) ||
		    !enumerator(btf, t, r->raw[0], &name, &ans->value))
			return "the enum value relocation does not name an enumerator";
		if (kind == BPF_CORE_ENUMVAL_EXISTS)
			ans->value = 1;
		return NULL;
	}
	if (r->raw_count != 1 || r->raw[0] != 0)
		return "a type relocation whose access is not \"0\"";
	if (kind == BPF_CORE_TYPE_SIZE) {
		__s64 size = btf__resolve_size(btf, r->relo.type_id);

		if (size < 0)
			return "the object's type has no size";
		ans->value = size;
	} else if (kind == BPF_CORE_TYPE_ID_TARGET || kind == BPF_CORE_TYPE_ID_LOCAL) {
		ans->value = r->relo.type_id;
	}
	return NULL;
}

/* Does kernel type `cand` answer the relocation? 1 (filling ans), 0 (saying
 * why not), or -1 on an error that fails the relocation whatever the rest. */
static int candidate_answer(const struct btf *lbtf, const struct relocation *r, const struct access *acc,
			    const struct btf *tbtf, __u32 cand, struct answer *ans, const char **why, char *buf,
			    size_t len)
{
	const __u32 kind = r->relo.kind;

	*ans = (struct answer){ .value = 1, .type_id = cand };
	if (is_field_kind(kind)) {
		struct field f;

		if ((*why = walk_target(lbtf, acc, tbtf, cand, &f, buf, len)))
			return 0;
		if ((*why = field_answer(tbtf, kind, &f, ans)))
			return -1;
		return 1;
	}
	if (is_enumval_kind(kind)) {
		const struct btf_type *t = skip_mods_and_typedefs(tbtf, cand, NULL);
		const struct btf_type *lt = skip_mods_and_typedefs(lbtf, r->relo.type_id, NULL);
		const char *lname, *tname;
		__u64 lvalue;

		enumerator(lbtf, lt, r->raw[0], &lname, &lvalue);
		for (__u16 i = 0; t && btf_is_any_enum(t) && i < btf_vlen(t); i++) {
			if (enumerator(tbtf, t, i, &tname, &ans->value) && essential_names_equal(lname, tname)) {
				if (kind == BPF_CORE_ENUMVAL_EXISTS)
					ans->value = 1;
				return 1;
			}
		}
		*why = "the kernel's enum has no such value";
		return 0;
	}
	if (!types_compatible(lbtf, r->relo.type_id, tbtf, cand, 0)) {
		*why = "the kernel's type of that name is not compatible";
		return 0;
	}
	if (kind == BPF_CORE_TYPE_SIZE)
		ans->value = btf__resolve_size(tbtf, cand);
	else if (kind == BPF_CORE_TYPE_ID_TARGET)
		ans->value = cand;
	return 1;
}

/* ---- the object file ---- */

struct object {
	unsigned char *data;
	size_t size;
	const Elf64_Shdr *sections;
	unsigned section_count;
	const Elf64_Shdr *section_names;
};

static const Elf64_Shdr *find_section(const struct object *obj, const char *name)
{
	for (unsigned i = 0; i < obj->section_count; i++) {
		const Elf64_Shdr *s = &obj->sections[i];

		if (s->sh_name < obj->section_names->sh_size &&
		    !strcmp((const char *)obj->data + obj->section_names->sh_offset + s->sh_name, name))
			return s;
	}
	return NULL;
}

/* The function symbol whose code holds byte `off` of section `sec`, and where it starts. */
static const char *function_at(const struct object *obj, const Elf64_Shdr *sec, __u64 off, __u64 *start)
{
	for (unsigned i = 0; i < obj->section_count; i++) {
		const Elf64_Shdr *symtab = &obj->sections[i], *strtab;

		if (symtab->sh_type != SHT_SYMTAB || symtab->sh_link >= obj->section_count)
			continue;
		strtab = &obj->sections[symtab->sh_link];
		for (__u64 at = 0; at + sizeof(Elf64_Sym) <= symtab->sh_size; at += sizeof(Elf64_Sym)) {
			const Elf64_Sym *sym = (const Elf64_Sym *)(obj->data + symtab->sh_offset + at);

			if (ELF64_ST_TYPE(sym->st_info) == STT_FUNC && sym->st_shndx == sec - obj->sections &&
			    sym->st_value <= off && off < sym->st_value + sym->st_size &&
			    sym->st_name < strtab->sh_size) {
				*start = sym->st_value;
				return (const char *)obj->data + strtab->sh_offset + sym->st_name;
			}
		}
	}
	return NULL;
}

static int read_object(struct object *obj, const char *path)
{
	FILE *f = fopen(path, "rb");
	const Elf64_Ehdr *eh;
	long size;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(obj->data = malloc(size ?: 1)) || fread(obj->data, 1, size, f) != (size_t)size) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	obj->size = size;
	eh = (const Elf64_Ehdr *)obj->data;
	if (obj->size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_BPF || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shoff + (__u64)eh->e_shnum * sizeof(Elf64_Shdr) > obj->size || eh->e_shstrndx >= eh->e_shnum)
		return -EINVAL;
	obj->sections = (const Elf64_Shdr *)(obj->data + eh->e_shoff);
	obj->section_count = eh->e_shnum;
	obj->section_names = &obj->sections[eh->e_shstrndx];
	for (unsigned i = 0; i < obj->section_count; i++)
		if (obj->sections[i].sh_type != SHT_NOBITS &&
		    obj->sections[i].sh_offset + obj->sections[i].sh_size > obj->size)
			return -EINVAL;
	return 0;
}

/* The instruction a relocation patches must hold the object's value, and a
 * direct load or store must be able to follow the field to the kernel. */
static const char *check_instruction(const struct object *obj, const struct relocation *r, bool found,
				     const struct btf *lbtf, const struct btf *tbtf, char *why, size_t len)
{
	const Elf64_Shdr *sec = find_section(obj, r->section);
	const struct answer *local = &r->local, *kernel = &r->kernel;
	/* For bitfields clang sizes the load by the access's alignment, where
	 * libbpf sizes it by the integer's type: their values may differ. */
	const bool bitfield = is_field_kind(r->relo.kind) && local->field.bit_size;
	const struct bpf_insn *insn;
	__u64 imm;

	if (!sec || r->relo.insn_off % sizeof(*insn) || r->relo.insn_off + sizeof(*insn) > sec->sh_size)
		return "the relocated instruction is outside its section";
	insn = (const struct bpf_insn *)(obj->data + sec->sh_offset + r->relo.insn_off);
	switch (BPF_CLASS(insn->code)) {
	case BPF_LDX:
	case BPF_ST:
	case BPF_STX: {
		static const __u32 mem_sizes[] = { [BPF_W >> 3] = 4, [BPF_H >> 3] = 2, [BPF_B >> 3] = 1, [BPF_DW >> 3] = 8 };
		__u32 mem_size = mem_sizes[BPF_SIZE(insn->code) >> 3];
		const struct btf_type *l, *t;

		if (r->relo.kind != BPF_CORE_FIELD_BYTE_OFFSET || bitfield)
			return "a load or store carries a relocation other than a field's offset";
		if ((__s64)insn->off != (__s64)local->value) {
			snprintf(why, len, "the instruction's offset %d is not the object's %llu", insn->off,
				 (unsigned long long)local->value);
			return why;
		}
		if (!found)
			return NULL;
		if (kernel->value > INT16_MAX) {
			snprintf(why, len, "offset %llu is too far for a load or store", (unsigned long long)kernel->value);
			return why;
		}
		if (local->size == kernel->size)
			return NULL;
		/* libbpf resizes the access only where zero extension keeps the value. */
		l = skip_mods_and_typedefs(lbtf, local->type_id, NULL);
		t = skip_mods_and_typedefs(tbtf, kernel->type_id, NULL);
		if (((btf_is_ptr(l) && btf_is_ptr(t)) ||
		     (btf_is_int(l) && btf_is_int(t) && !(btf_int_encoding(l) & BTF_INT_SIGNED) &&
		      !(btf_int_encoding(t) & BTF_INT_SIGNED))) &&
		    mem_size == local->size &&
		    (kernel->size == 1 || kernel->size == 2 || kernel->size == 4 || kernel->size == 8))
			return NULL;
		snprintf(why, len, "a %u-byte load or store of a field that is %u bytes on the kernel", mem_size,
			 kernel->size);
		return why;
	}
	case BPF_ALU:
	case BPF_ALU64:
		if (BPF_SRC(insn->code) != BPF_K)
			break;
		if (!bitfield && (__u32)insn->imm != (__u32)local->value) {
			snprintf(why, len, "the instruction's immediate %d is not the object's %llu", insn->imm,
				 (unsigned long long)local->value);
			return why;
		}
		return NULL;
	case BPF_LD:
		if (insn->code != (BPF_LD | BPF_IMM | BPF_DW))
			break;
		if (r->relo.insn_off + 2 * sizeof(*insn) > sec->sh_size)
			return "a 64-bit immediate is cut short";
		imm = (__u32)insn[0].imm | (__u64)(__u32)insn[1].imm << 32;
		if (!bitfield && imm != local->value) {
			snprintf(why, len, "the instruction's immediate %llu is not the object's %llu",
				 (unsigned long long)imm, (unsigned long long)local->value);
			return why;
		}
		return NULL;
	}
	return "the relocated instruction is of a kind CO-RE does not patch";
}

static void fail(struct relocation *r, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	vsnprintf(r->message, sizeof(r->message), format, args);
	va_end(args);
	r->outcome = FAILED;
}

/* Resolves one relocation against the kernel: fills outcome, message, local and kernel. */
static void resolve(const struct object *obj, const struct btf *lbtf, const struct target *target,
		    struct relocation *r)
{
	const struct btf_type *root = btf__type_by_id(lbtf, r->relo.type_id);
	const char *root_name = root ? type_name(lbtf, root) : "";
	const char *why = "the kernel has no type of that kind and name", *err;
	struct access acc;
	char buf[192];
	size_t first, count;

	if (!root || r->relo.kind >= KIND_COUNT) {
		fail(r, "unknown type [%u] or relocation kind %u", r->relo.type_id, r->relo.kind);
		return;
	}
	if ((err = local_answer(lbtf, r, &acc, &r->local))) {
		fail(r, "%s", err);
		return;
	}
	r->outcome = RESOLVED;
	if (r->relo.kind == BPF_CORE_TYPE_ID_LOCAL)
		return; /* the object's own type id: nothing to find on the kernel */
	if (!*root_name) {
		fail(r, "the relocation's type is anonymous: CO-RE looks types up by name");
		return;
	}

	/* Every kernel type of the same kind and name (flavours aside) that answers must agree. */
	count = find_named(target, root_name, &first);
	for (size_t c = first; c < first + count; c++) {
		__u32 cand = target->names[c].id;
		struct answer ans;
		int hit;

		if (!btf_kind_core_compat(root, btf__type_by_id(target->btf, cand)))
			continue;
		hit = candidate_answer(lbtf, r, &acc, target->btf, cand, &ans, &why, buf, sizeof(buf));
		if (hit < 0) {
			fail(r, "kernel type [%u]: %s", cand, why);
			return;
		}
		if (!hit)
			continue;
		if (r->candidate && (ans.value != r->kernel.value || ans.field.bit_off != r->kernel.field.bit_off)) {
			fail(r, "ambiguous: kernel types [%u] and [%u] give different results", r->candidate, cand);
			return;
		}
		if (!r->candidate) {
			r->kernel = ans;
			r->candidate = cand;
		}
	}
	if (!r->candidate) {
		r->outcome = NOT_FOUND;
		snprintf(r->message, sizeof(r->message), "%s", why);
	}
	if ((err = check_instruction(obj, r, r->candidate != 0, lbtf, target->btf, buf, sizeof(buf))))
		fail(r, "%s", err);
}

/* Is this relocation, which found nothing, asked about by an existence check
 * of the same program that also found nothing? */
static bool guarded(const struct relocation *all, size_t n, const struct relocation *r)
{
	for (size_t i = 0; i < n; i++) {
		const struct relocation *g = &all[i];

		if (g->outcome != NOT_FOUND || !is_guard_kind(g->relo.kind) || strcmp(g->program, r->program) ||
		    g->relo.type_id != r->relo.type_id)
			continue;
		if (g->relo.kind == BPF_CORE_TYPE_EXISTS || g->relo.kind == BPF_CORE_TYPE_MATCHES)
			return true;
		if (g->relo.kind == BPF_CORE_FIELD_EXISTS && is_field_kind(r->relo.kind) &&
		    g->raw_count <= r->raw_count && !memcmp(g->raw, r->raw, g->raw_count * sizeof(g->raw[0])))
			return true;
		if (g->relo.kind == BPF_CORE_ENUMVAL_EXISTS && r->relo.kind == BPF_CORE_ENUMVAL_VALUE &&
		    g->raw[0] == r->raw[0])
			return true;
	}
	return false;
}

/* The access in C terms, for messages: (struct sock)->__sk_common.skc_family */
static void describe(const struct btf *btf, const struct relocation *r, char *out, size_t len)
{
	const struct btf_type *root = btf__type_by_id(btf, r->relo.type_id);
	const char *name = root ? type_name(btf, root) : "";
	struct access acc;
	struct field f;
	size_t n;

	if (!root) {
		snprintf(out, len, "type [%u]", r->relo.type_id);
	} else if (is_enumval_kind(r->relo.kind)) {
		const struct btf_type *t = skip_mods_and_typedefs(btf, r->relo.type_id, NULL);
		const char *value = NULL;
		__u64 v;

		if (t && btf_is_any_enum(t) && r->raw_count == 1 && r->raw[0] < btf_vlen(t))
			enumerator(btf, t, r->raw[0], &value, &v);
		snprintf(out, len, "enum %s::%s", name, value ?: "?");
	} else if (!is_field_kind(r->relo.kind)) {
		snprintf(out, len, "%s %s", kind_word(root), *name ? name : "(anonymous)");
	} else {
		n = snprintf(out, len, "(%s %s)", kind_word(root), *name ? name : "(anonymous)");
		if (walk_local(btf, r->relo.type_id, r->raw, r->raw_count, &acc, &f))
			return;
		if (acc.first && n < len)
			n += snprintf(out + n, len - n, "[%u]", acc.first);
		for (int i = 0; i < acc.count && n < len; i++) {
			const struct step *s = &acc.steps[i];

			if (s->element)
				n += snprintf(out + n, len - n, "[%u]", s->index);
			else
				n += snprintf(out + n, len - n, "%s%s", i == 0 && !acc.first ? "->" : ".", s->name);
		}
	}
}

/* ---- one object ---- */

/* The start of .BTF.ext (not in libbpf's public headers). */
struct btf_ext_header {
	__u16 magic;
	__u8 version;
	__u8 flags;
	__u32 hdr_len;
	__u32 func_info_off;
	__u32 func_info_len;
	__u32 line_info_off;
	__u32 line_info_len;
	__u32 core_relo_off;
	__u32 core_relo_len;
};

/* Reads the CO-RE relocation records of .BTF.ext: per section, its records. */
static int read_relocations(const struct object *obj, const struct btf *btf, struct relocation **out, size_t *count)
{
	const Elf64_Shdr *sec = find_section(obj, ".BTF.ext");
	const struct btf_ext_header *hdr;
	const unsigned char *p, *end;
	struct relocation *relos = NULL;
	size_t n = 0;
	__u32 rec_size;

	*out = NULL;
	*count = 0;
	if (!sec)
		return 0; /* no CO-RE at all */
	hdr = (const struct btf_ext_header *)(obj->data + sec->sh_offset);
	if (sec->sh_size < 8 || hdr->magic != 0xeB9F || hdr->hdr_len > sec->sh_size)
		return -EINVAL;
	if (hdr->hdr_len < sizeof(*hdr) || !hdr->core_relo_len)
		return 0; /* written without CO-RE relocation records */
	p = obj->data + sec->sh_offset + hdr->hdr_len + hdr->core_relo_off;
	end = p + hdr->core_relo_len;
	if (hdr->core_relo_len < 4 || (__u64)hdr->hdr_len + hdr->core_relo_off + hdr->core_relo_len > sec->sh_size ||
	    (rec_size = *(const __u32 *)p) < sizeof(struct bpf_core_relo))
		return -EINVAL;
	for (p += 4; p + 8 <= end;) {
		const char *section = btf__name_by_offset(btf, ((const __u32 *)p)[0]);
		const Elf64_Shdr *code = section ? find_section(obj, section) : NULL;
		__u32 records = ((const __u32 *)p)[1];
		struct relocation *grown;

		p += 8;
		if (!code || (__u64)records * rec_size > (__u64)(end - p) ||
		    !(grown = realloc(relos, (n + records) * sizeof(*relos) ?: 1))) {
			free(relos);
			return -EINVAL;
		}
		relos = grown;
		for (__u32 i = 0; i < records; i++, p += rec_size) {
			struct relocation *r = &relos[n++];
			const char *access;
			__u64 start = 0;

			memset(r, 0, sizeof(*r));
			memcpy(&r->relo, p, sizeof(r->relo));
			r->section = section;
			r->program = function_at(obj, code, r->relo.insn_off, &start) ?: section;
			r->insn = (r->relo.insn_off - start) / sizeof(struct bpf_insn);
			access = btf__name_by_offset(btf, r->relo.access_str_off);
			r->raw_count = access ? parse_indices(access, r->raw, MAX_ACCESS) : -1;
		}
	}
	*out = relos;
	*count = n;
	return 0;
}

struct counts {
	unsigned relocations, resolved, absent, guarded, failed;
};

static int check_object(const char *path, const struct target *target, bool verbose, struct counts *counts)
{
	struct object obj = { 0 };
	const Elf64_Shdr *sec;
	struct relocation *relos = NULL;
	struct btf *btf = NULL;
	size_t n = 0;
	int err;

	*counts = (struct counts){ 0 };
	if ((err = read_object(&obj, path))) {
		fprintf(stderr, "core-relo-check: %s: not a readable BPF object (%s)\n", path, strerror(-err));
		goto out;
	}
	if (!(sec = find_section(&obj, ".BTF")) || !(btf = btf__new(obj.data + sec->sh_offset, sec->sh_size))) {
		fprintf(stderr, "core-relo-check: %s: no readable .BTF section\n", path);
		err = -EINVAL;
		goto out;
	}
	if ((err = read_relocations(&obj, btf, &relos, &n))) {
		fprintf(stderr, "core-relo-check: %s: malformed CO-RE relocation records in .BTF.ext\n", path);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (relos[i].raw_count < 1)
			fail(&relos[i], "an unreadable access string");
		else
			resolve(&obj, btf, target, &relos[i]);
	}

	counts->relocations = n;
	for (size_t i = 0; i < n; i++) {
		struct relocation *r = &relos[i];
		const char *label = "failed";
		char access[256];

		if (r->outcome == RESOLVED) {
			counts->resolved++;
			if (!verbose)
				continue;
			label = "resolved";
			snprintf(r->message, sizeof(r->message), "%llu -> %llu (kernel type [%u])",
				 (unsigned long long)r->local.value, (unsigned long long)r->kernel.value,
				 r->candidate);
		} else if (r->outcome == NOT_FOUND && is_guard_kind(r->relo.kind)) {
			counts->absent++;
			label = "absent";
		} else if (r->outcome == NOT_FOUND && guarded(relos, n, r)) {
			counts->guarded++;
			label = "guarded";
		} else {
			counts->failed++;
		}
		describe(btf, r, access, sizeof(access));
		printf("%s %s %s insn %u %s %s: %s\n", label, path, r->program, r->insn,
		       r->relo.kind < KIND_COUNT ? kind_names[r->relo.kind] : "?", access, r->message);
	}
	printf("%s: relocations=%u resolved=%u absent=%u guarded=%u failed=%u\n", path, counts->relocations,
	       counts->resolved, counts->absent, counts->guarded, counts->failed);
out:
	btf__free(btf);
	free(relos);
	free(obj.data);
	return err;
}

int main(int argc, char **argv)
{
	struct target target;
	struct btf *kernel;
	bool verbose = false, failed = false, unreadable = false;

	if (argc > 1 && !strcmp(argv[1], "-v")) {
		verbose = true;
		argv++;
		argc--;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: core-relo-check [-v] <kernel BTF> <object.bpf.o>...\n");
		return 2;
	}
	if (!(kernel = btf__parse_raw(argv[1]))) {
		fprintf(stderr, "core-relo-check: %s: not a readable BTF file (%s)\n", argv[1], strerror(errno));
		return 2;
	}
	if (index_target(&target, kernel)) {
		fprintf(stderr, "core-relo-check: out of memory\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		struct counts counts;

		if (check_object(argv[i], &target, verbose, &counts))
			unreadable = true;
		else if (counts.failed)
			failed = true;
	}
	free(target.names);
	btf__free(kernel);
	return unreadable ? 2 : failed ? 1 : 0;
}
