/* pgo_graph.c: the compiler's PGO edges of a profile, rule for rule as Go
 * computes them (Go 1.21 to 1.26):
 *
 * cmd/internal/pgo FromPProf: no samples -> nothing; the sample type is the
 * first of samples/count or cpu/nanoseconds, none is an error; then
 * internal/profile NewGraph and createNamedEdgeMap.
 *
 * NewGraph: a node per NodeInfo{function name, location address, function
 * start_line, line} (a location without lines gives one node with only its
 * address). Per sample whose value is not 0, it walks only the two leaf-most
 * locations (outermost first), each location's lines outermost first; a node
 * gets the value once per sample (Cum), the last one walked also as Flat;
 * each step from a node to a different one adds the value to that edge,
 * once per sample. Nodes whose Cum and Flat are both 0 are dropped.
 *
 * createNamedEdgeMap: for each kept node, each of its out edges adds its
 * weight to (caller name, callee name, caller line - caller start_line),
 * and to the total. No kept node with a start_line is an error; a total of
 * 0 means nothing. Sums wrap, as Go's int64 does. */
#include "pgo.h"
#include "pprof_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Graph records: a key (no padding in it), then what is summed, and the
 * number of the last sample that added to it (NewGraph's seenNode and
 * seenEdge: a sample adds to each node and edge once). */
typedef struct {
	uint64_t address;
	int64_t start_line, lineno;
	uint32_t name;
	uint64_t cum, flat, seen;
} gnode;

typedef struct {
	uint32_t src, dst;
	uint64_t weight, seen;
} gedge;

typedef struct {
	const pf_profile *p;
	pf_err *e;
	pf_keyset node_set, edge_set; /* of gnode, gedge */
	pf_keyset named_set;          /* of pf_pgo_edge, keyed by its names' pool addresses and its offset */
	gnode *nodes;                 /* node_set's records */
	uint32_t *frame_nodes;        /* the node of each line of p, then of each location without lines */
} graph;

static int oom(graph *g) { return pf_fail(g->e, PF_EXIT_INTERNAL, "out of memory computing PGO edges"); }

long pf_pgo_value_index(const pf_profile *p)
{
	for (size_t i = 0; i < p->nsample_types; i++) {
		const pf_value_type *vt = &p->sample_types[i];
		if ((pf_str_is(p, vt->type, "samples") && pf_str_is(p, vt->unit, "count")) ||
		    (pf_str_is(p, vt->type, "cpu") && pf_str_is(p, vt->unit, "nanoseconds")))
			return (long)i;
	}
	return -1;
}

/* CreateNodes: every location's nodes, one per line (NodeMap.FindOrInsertNode:
 * string ids stand for names, as the pool holds each distinct string once). */
static int create_nodes(graph *g)
{
	const pf_profile *p = g->p;
	g->frame_nodes = malloc((p->nlines + p->nlocations + 1) * sizeof *g->frame_nodes);
	if (!g->frame_nodes || pf_htab_reserve(&g->node_set.index, p->nlines + p->nlocations) != 0)
		return oom(g);
	for (size_t i = 0; i < p->nlocations; i++) {
		const pf_location *l = &p->locations[i];
		gnode key = {.address = l->address};
		if (l->nlines == 0 && pf_keyset_add(&g->node_set, &key, &g->frame_nodes[p->nlines + i]) < 0)
			return oom(g);
		for (uint32_t j = 0; j < l->nlines; j++) {
			const pf_line *ln = &p->lines[l->lines + j];
			const pf_function *fn = &p->functions[ln->function];
			key.name = fn->name;
			key.start_line = fn->start_line;
			key.lineno = ln->line;
			if (pf_keyset_add(&g->node_set, &key, &g->frame_nodes[l->lines + j]) < 0)
				return oom(g);
		}
	}
	g->nodes = (gnode *)g->node_set.v;
	return 0;
}

/* One step of NewGraph's walk in sample number seen: node n after parent
 * (PF_NONE at the start), and Node.AddToEdge. */
static int walk_node(graph *g, uint32_t n, uint32_t parent, uint64_t w, uint64_t seen)
{
	gnode *node = &g->nodes[n];
	if (node->seen != seen) {
		node->seen = seen;
		node->cum += w;
	}
	if (parent == PF_NONE || n == parent)
		return 0;
	uint32_t at;
	if (pf_keyset_add(&g->edge_set, &(gedge){parent, n, 0, 0}, &at) < 0)
		return oom(g);
	gedge *ed = (gedge *)g->edge_set.v + at;
	if (ed->seen != seen) {
		ed->seen = seen;
		ed->weight += w;
	}
	return 0;
}

/* NewGraph's loop over sample i. */
static int add_sample(graph *g, size_t i, uint64_t w)
{
	const pf_profile *p = g->p;
	const pf_sample *s = &p->samples[i];
	uint32_t parent = PF_NONE;
	/* "Count only the last two frames as a call edge." */
	for (long k = s->nlocs < 2 ? (long)s->nlocs - 1 : 1; k >= 0; k--) {
		uint32_t loc = p->sample_locs[s->locs + (size_t)k];
		const pf_location *l = &p->locations[loc];
		for (uint32_t j = l->nlines ? l->nlines : 1; j-- > 0;) {
			uint32_t n = g->frame_nodes[l->nlines ? l->lines + j : p->nlines + loc];
			if (walk_node(g, n, parent, w, i + 1) != 0)
				return -1;
			parent = n;
		}
	}
	if (parent != PF_NONE)
		g->nodes[parent].flat += w;
	return 0;
}

static bool kept(const gnode *n) { return n->cum != 0 || n->flat != 0; }

/* createNamedEdgeMap over the kept nodes, adding their weights to *total. */
static int name_edges(graph *g, uint64_t *total)
{
	for (size_t i = 0; i < g->edge_set.n; i++) {
		const gedge *ed = (const gedge *)g->edge_set.v + i;
		const gnode *src = &g->nodes[ed->src];
		if (!kept(src)) /* dropped with its out edges; an edge into a dropped node stays */
			continue;
		pf_pgo_edge key = {.offset = (int64_t)((uint64_t)src->lineno - (uint64_t)src->start_line)};
		key.caller = pf_profile_str(g->p, src->name, &key.caller_len);
		key.callee = pf_profile_str(g->p, g->nodes[ed->dst].name, &key.callee_len);
		uint32_t at;
		if (pf_keyset_add(&g->named_set, &key, &at) < 0)
			return oom(g);
		pf_pgo_edge *named = (pf_pgo_edge *)g->named_set.v + at;
		named->weight = (int64_t)((uint64_t)named->weight + ed->weight);
		*total += ed->weight;
	}
	return 0;
}

int pf_bytes_cmp(const char *a, size_t na, const char *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);
	return c ? c : (na > nb) - (na < nb);
}

/* sortByWeight: the key (caller, callee, offset) is unique, so the order is total. */
static int by_weight(const void *x, const void *y)
{
	const pf_pgo_edge *a = x, *b = y;
	if (a->weight != b->weight)
		return a->weight > b->weight ? -1 : 1;
	int c = pf_bytes_cmp(a->caller, a->caller_len, b->caller, b->caller_len);
	if (c == 0)
		c = pf_bytes_cmp(a->callee, a->callee_len, b->callee, b->callee_len);
	if (c == 0 && a->offset != b->offset)
		c = a->offset < b->offset ? -1 : 1;
	return c;
}

static int compute(graph *g, size_t vi, pf_pgo_edges *out)
{
	const pf_profile *p = g->p;
	if (create_nodes(g) != 0)
		return -1;
	for (size_t i = 0; i < p->nsamples; i++) {
		const pf_sample *s = &p->samples[i];
		uint64_t w = (uint64_t)p->values[s->values + vi];
		if (w != 0 && add_sample(g, i, w) != 0)
			return -1;
	}
	bool seen_start_line = false;
	for (size_t i = 0; i < g->node_set.n; i++)
		seen_start_line |= kept(&g->nodes[i]) && g->nodes[i].start_line != 0;
	if (!seen_start_line)
		return pf_fail(g->e, PF_EXIT_DATA,
			       "profile missing Function.start_line data (Go version of profiled application too old? "
			       "Go 1.20+ automatically adds this to profiles)");
	uint64_t total = 0;
	if (name_edges(g, &total) != 0)
		return -1;
	if (total == 0) /* "accept but ignore profile with no samples" */
		return 0;
	*out = (pf_pgo_edges){(pf_pgo_edge *)g->named_set.v, g->named_set.n, (int64_t)total};
	g->named_set.v = NULL; /* its records are the result's */
	qsort(out->edges, out->nedges, sizeof *out->edges, by_weight);
	return 0;
}

int pf_pgo_edges_of(const pf_profile *p, pf_pgo_edges *out, pf_err *e)
{
	memset(out, 0, sizeof *out);
	if (p->nsamples == 0)
		return 0;
	long vi = pf_pgo_value_index(p);
	if (vi < 0)
		return pf_fail(e, PF_EXIT_DATA, "profile does not contain a sample index with value/type "
					       "\"samples/count\" or cpu/nanoseconds\"");
	graph g = {.p = p, .e = e, .node_set = {.size = sizeof(gnode), .key_size = offsetof(gnode, name) + sizeof(uint32_t)},
		   .edge_set = {.size = sizeof(gedge), .key_size = sizeof(uint32_t[2])},
		   .named_set = {.size = sizeof(pf_pgo_edge), .key_size = offsetof(pf_pgo_edge, weight)}};
	int rc = compute(&g, (size_t)vi, out);
	pf_keyset_free(&g.node_set);
	pf_keyset_free(&g.edge_set);
	pf_keyset_free(&g.named_set);
	free(g.frame_nodes);
	if (rc != 0)
		pf_pgo_edges_free(out);
	return rc;
}

void pf_pgo_edges_free(pf_pgo_edges *g)
{
	free(g->edges);
	memset(g, 0, sizeof *g);
}

/* Go's order is total, so two lists of the same edges are equal element by element. */
bool pf_pgo_edges_same(const pf_pgo_edges *a, const pf_pgo_edges *b)
{
	if (a->nedges != b->nedges || a->total_weight != b->total_weight)
		return false;
	for (size_t i = 0; i < a->nedges; i++)
		if (by_weight(&a->edges[i], &b->edges[i]) != 0)
			return false;
	return true;
}

/* `go tool preprofile`'s format (cmd/internal/pgo serialize.go, Profile.WriteTo):
 *
 *   GO PREPROFILE V1
 *   caller name
 *   callee name
 *   offset weight
 *   ... (one triple per edge, heaviest first)
 *
 * Names are written as they are, with fmt.Fprintln; numbers with "%d %d\n".
 * A profile the compiler ignores is the header alone. */
int pf_preprofile_write(const pf_pgo_edges *g, pf_buf *out, pf_err *e)
{
	static const char header[] = "GO PREPROFILE V1\n";
	int rc = pf_buf_append(out, header, sizeof header - 1);
	for (size_t i = 0; rc == 0 && i < g->nedges; i++) {
		const pf_pgo_edge *ed = &g->edges[i];
		char nums[48];
		int n = snprintf(nums, sizeof nums, "\n%" PRId64 " %" PRId64 "\n", ed->offset, ed->weight);
		if (n < 0 || (size_t)n >= sizeof nums || pf_buf_append(out, ed->caller, ed->caller_len) != 0 ||
		    pf_buf_putc(out, '\n') != 0 || pf_buf_append(out, ed->callee, ed->callee_len) != 0 ||
		    pf_buf_append(out, nums, (size_t)n) != 0)
			rc = -1;
	}
	return rc == 0 ? 0 : pf_fail(e, PF_EXIT_INTERNAL, "out of memory writing the preprofile");
}
