/** Client-side navigation without importing the router (avoids an import cycle with pages). */
export const go = (path: string): void => {
  history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
};
