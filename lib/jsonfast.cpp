/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jsonfast.cpp - the large-document JSON path: simdjson's DOM parser (runtime
 * dispatched to the widest SIMD kernel the CPU has) reads the text and the
 * same json-c tree tcwi_json_parse would build comes out. Behind the C
 * function tcwi_json_parse_fast; nothing C++ leaks past this file.
 *
 * Equivalence with the json-c path: objects, arrays, strings, integers,
 * booleans and null map one to one (later duplicate keys replace earlier
 * ones, an escaped NUL ends a key, integers above INT64_MAX stay uint64, as
 * json-c does). Everything else - any non-integer number (json-c keeps its
 * original text), nesting deeper than max_depth, and whatever simdjson
 * refuses - is reported as TCW_ERR_INVALID_REQUEST so that the caller lets
 * json-c decide.
 */
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <secp256k1.h>
#include <simdjson.h>

/* the C headers' own includes come first, with their own C++ guards */
extern "C" {
#include "internal.h"
}

namespace
{

using simdjson::dom::element_type;

/* Buffers kept per thread between documents up to this size; larger ones
 * are released after use, so memory follows the usual request size. */
constexpr size_t keep_max = 4u << 20;

/* Per-thread simdjson state: the parser and a padded copy of the text. */
struct fast_state {
	simdjson::dom::parser parser;
	std::unique_ptr<char[]> buf;
	size_t cap = 0;
};

thread_local fast_state t_state;
/* the second parser, for a params string parsed straight from t_state's
 * string buffer */
thread_local fast_state t_inner;

/* Whether text holds a \u escape: memchr for the backslashes (a large
 * work order has few, all in front of quotes), which runs at memory speed
 * where memmem's byte-pair search took 0.7 ms per 1.4 MB. *nested (may be
 * NULL) is set when an escaped backslash is followed by 'u': only then can
 * a string of text, once unescaped, hold a \u escape of its own (its
 * backslashes are text's "\\"; a "\u005c" is a \u escape of text). */
bool has_u_escape(const char *text, size_t len, bool *nested = nullptr)
{
	const char *p = text, *end = text + len;

	while ((p = static_cast<const char *>(memchr(p, '\\', (size_t)(end - p)))) != nullptr) {
		if (p + 1 < end && p[1] == 'u')
			return true;
		if (nested && p + 2 < end && p[1] == '\\' && p[2] == 'u')
			*nested = true;
		p += 2; /* the escaped character cannot start another escape */
		if (p >= end)
			break;
	}
	return false;
}

/* How a document is converted. */
struct conv {
	int max_depth;
	bool nest; /* parse a large root "params" string too (see internal.h) */
	/* nest: the envelope's scan found no "\\u", so no string of it holds a
	 * \u escape once unescaped: the params text needs no scan of its own */
	bool params_plain;
	/* nest: where the parsed params string lies (in t_state's parser) */
	std::string_view *params_text;
};

/* A json-c string of s; TCW_ERR_NOMEM when it cannot be allocated. */
int string_from(std::string_view s, json_object **out)
{
	if (s.size() > (size_t)INT32_MAX)
		return TCW_ERR_INVALID_REQUEST;
	*out = json_object_new_string_len(s.data(), (int)s.size());
	return *out ? TCW_OK : TCW_ERR_NOMEM;
}

int build(simdjson::dom::element e, int depth, const conv &c, json_object **out);

/*
 * The root "params" member of an envelope when it is a string: its text is
 * parsed where it lies, in the outer parser's string buffer (which keeps
 * more than SIMDJSON_PADDING bytes after any string), instead of becoming a
 * json-c string that would be copied again for parsing. Only an object is
 * taken; anything else stays the string it was.
 */
int build_params(std::string_view s, const conv &c, json_object **out)
{
	simdjson::dom::element root;
	const conv inner = {c.max_depth, false, false, nullptr};
	int ret = TCW_ERR_INVALID_REQUEST;

	/* the inner text's own \u escapes are json-c's too (in the envelope
	 * they were written as \\u, which is no \u escape there) */
	if (s.size() >= TCWI_JSON_FAST_MIN && (c.params_plain || !has_u_escape(s.data(), s.size()))) {
		auto err = t_inner.parser.parse(s.data(), s.size(), false).get(root);

		if (err == simdjson::MEMALLOC)
			return TCW_ERR_NOMEM;
		if (!err && root.type() == element_type::OBJECT) {
			ret = build(root, 1, inner, out);
			if (ret == TCW_OK && c.params_text)
				*c.params_text = s;
		}
		if (t_inner.parser.capacity() > keep_max)
			t_inner.parser = simdjson::dom::parser();
	}
	return ret == TCW_ERR_INVALID_REQUEST ? string_from(s, out) : ret;
}

/* Adds every member of obj to a new json-c object. */
int build_object(simdjson::dom::object obj, int depth, const conv &c, json_object **out)
{
	json_object *o = json_object_new_object();
	int ret = TCW_OK;

	if (!o)
		return TCW_ERR_NOMEM;
	for (simdjson::dom::key_value_pair kv : obj) {
		json_object *child = nullptr;
		/* json-c keys are C strings: an escaped NUL ends them there too */
		std::string name(kv.key.substr(0, kv.key.find('\0')));

		if (c.nest && depth == 1 && kv.key == "params" && kv.value.is_string())
			ret = build_params(kv.value.get_string().value_unsafe(), c, &child);
		else
			ret = build(kv.value, depth + 1, c, &child);
		if (ret != TCW_OK)
			break;
		if (json_object_object_add(o, name.c_str(), child) < 0) {
			json_object_put(child);
			ret = TCW_ERR_NOMEM;
			break;
		}
	}
	if (ret != TCW_OK) {
		json_object_put(o);
		return ret;
	}
	*out = o;
	return TCW_OK;
}

/* Appends every element of arr to a new json-c array. */
int build_array(simdjson::dom::array arr, int depth, const conv &c, json_object **out)
{
	json_object *a = json_object_new_array();
	int ret = TCW_OK;

	if (!a)
		return TCW_ERR_NOMEM;
	for (simdjson::dom::element v : arr) {
		json_object *child = nullptr;

		ret = build(v, depth + 1, c, &child);
		if (ret != TCW_OK)
			break;
		if (json_object_array_add(a, child) < 0) {
			json_object_put(child);
			ret = TCW_ERR_NOMEM;
			break;
		}
	}
	if (ret != TCW_OK) {
		json_object_put(a);
		return ret;
	}
	*out = a;
	return TCW_OK;
}

/* Converts one element at nesting depth (containers count from 1). */
int build(simdjson::dom::element e, int depth, const conv &c, json_object **out)
{
	*out = nullptr;
	switch (e.type()) {
	case element_type::OBJECT:
		if (depth > c.max_depth)
			return TCW_ERR_INVALID_REQUEST;
		return build_object(e.get_object().value_unsafe(), depth, c, out);
	case element_type::ARRAY:
		if (depth > c.max_depth)
			return TCW_ERR_INVALID_REQUEST;
		return build_array(e.get_array().value_unsafe(), depth, c, out);
	case element_type::STRING:
		return string_from(e.get_string().value_unsafe(), out);
	case element_type::INT64:
		*out = json_object_new_int64(e.get_int64().value_unsafe());
		return *out ? TCW_OK : TCW_ERR_NOMEM;
	case element_type::UINT64:
		*out = json_object_new_uint64(e.get_uint64().value_unsafe());
		return *out ? TCW_OK : TCW_ERR_NOMEM;
	case element_type::BOOL:
		*out = json_object_new_boolean(e.get_bool().value_unsafe());
		return *out ? TCW_OK : TCW_ERR_NOMEM;
	case element_type::NULL_VALUE:
		return TCW_OK;
	default:
		/* a double: json-c keeps the number's original text */
		return TCW_ERR_INVALID_REQUEST;
	}
}

/* Copies text into the thread's padded buffer, parses and converts it. */
int parse_padded(fast_state &st, const char *text, size_t len, const conv &c, json_object **out)
{
	simdjson::dom::element root;
	size_t need = len + simdjson::SIMDJSON_PADDING;

	if (st.cap < need) {
		st.buf.reset(new char[need]);
		st.cap = need;
	}
	memcpy(st.buf.get(), text, len);
	memset(st.buf.get() + len, 0, simdjson::SIMDJSON_PADDING);
	auto err = st.parser.parse(st.buf.get(), len, false).get(root);
	if (err == simdjson::MEMALLOC)
		return TCW_ERR_NOMEM;
	if (err)
		return TCW_ERR_INVALID_REQUEST;
	return build(root, 1, c, out);
}

} // namespace

/* Drops the thread's buffers when a large document left them big. */
void release_large(fast_state &st)
{
	if (st.cap > keep_max) {
		st.buf.reset();
		st.cap = 0;
		st.parser = simdjson::dom::parser();
	}
}

/* Parses text with simdjson into a json-c tree (see internal.h). */
extern "C" int tcwi_json_parse_fast(const char *text, size_t len, int max_depth, int nest_params,
                                    json_object **out, const char **params_text,
                                    size_t *params_len)
{
	std::string_view params;
	int ret;

	*out = nullptr;
	if (params_text) {
		*params_text = nullptr;
		*params_len = 0;
	}
	/* \u escapes (surrogate pairs in particular) are decoded differently by
	 * the two parsers; leave any text that has one to json-c, the reference.
	 * Large work orders carry base64 and hex only, so they keep the fast path. */
	bool nested = false;

	if (has_u_escape(text, len, &nested))
		return TCW_ERR_INVALID_REQUEST;
	try {
		fast_state &st = t_state;

		ret = parse_padded(
		    st, text, len,
		    conv{max_depth, nest_params != 0, !nested, params_text ? &params : nullptr}, out);
		if (ret == TCW_OK && params_text && params.data()) {
			/* the params text stays where it is until
			 * tcwi_json_fast_release */
			*params_text = params.data();
			*params_len = params.size();
		} else {
			release_large(st);
		}
	} catch (...) {
		release_large(t_state);
		json_object_put(*out);
		*out = nullptr;
		ret = TCW_ERR_NOMEM;
	}
	return ret;
}

/* Releases what tcwi_json_parse_fast kept for a params text (see internal.h). */
extern "C" void tcwi_json_fast_release(void)
{
	release_large(t_state);
}
