/**
 * Vertex ids of the REST API: 32 lower-case hex digits, as Flink's `JobVertexID`, derived
 * from the uid of the vertex's chain head (sha256), so they stay the same across runs and
 * restarts of the same job plan.
 */
import { createHash } from 'node:crypto';
import type { JobGraph } from '../graph/index.js';

export function vertexIdOf(graph: JobGraph, vertex: number): string {
  const v = graph.vertices[vertex]!;
  return createHash('sha256').update(`vertex:${graph.nodes[v.head]!.uid}`).digest('hex').slice(0, 32);
}

/** The vertex index of a REST vertex id; undefined for an unknown one. */
export function vertexIndexOf(graph: JobGraph, id: string): number | undefined {
  const index = graph.vertices.findIndex((_, i) => vertexIdOf(graph, i) === id);
  return index < 0 ? undefined : index;
}
