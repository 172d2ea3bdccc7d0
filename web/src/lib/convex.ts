// The official convex client, pointed at this server (same origin). Live data (projects,
// files, conversations, messages) comes from its queries; the token goes in its Authenticate
// message, since a browser cannot set headers on a WebSocket.
import { ConvexReactClient } from 'convex/react';
import { anyApi } from 'convex/server';

export const convexApi = anyApi;

// onRefused: the server turned the token down on the sync socket (signed by another secret,
// revoked, expired early): the page signs out and says so.
export function createConvexClient(getToken: () => string, onRefused: () => void): ConvexReactClient {
  const client = new ConvexReactClient(window.location.origin, {
    skipConvexDeploymentUrlCheck: true,
    unsavedChangesWarning: false,
  });
  client.setAuth(
    async () => getToken() || null,
    (authenticated) => {
      if (!authenticated) onRefused();
    },
  );
  return client;
}
