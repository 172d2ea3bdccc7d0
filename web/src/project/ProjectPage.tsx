// A project: a resizable split of the chat panel, the file tree and the editor tabs. At
// narrow widths the chat and the tree+editor stack instead.
import { useEffect, useState } from 'react';
import { useQuery } from 'convex/react';
import { Panel, PanelGroup, PanelResizeHandle } from 'react-resizable-panels';
import type { ProjectDoc } from '../lib/api';
import { convexApi } from '../lib/convex';
import { navigate } from '../lib/router';
import { WorkspaceProvider } from './workspace';
import { FileTree } from './tree/FileTree';
import { EditorArea } from './editor/EditorArea';
import { ChatPanel } from './chat/ChatPanel';
import './project.css';

function useNarrow(limit = 960) {
  const [narrow, setNarrow] = useState(() => window.innerWidth < limit);
  useEffect(() => {
    const onResize = () => setNarrow(window.innerWidth < limit);
    window.addEventListener('resize', onResize);
    return () => window.removeEventListener('resize', onResize);
  }, [limit]);
  return narrow;
}

export function ProjectPage({ projectId }: { projectId: string }) {
  const projects = useQuery(convexApi.projects.get, {}) as ProjectDoc[] | undefined;
  const project = projects?.find((p) => p._id === projectId);
  const narrow = useNarrow();
  useEffect(() => {
    if (project) document.title = `${project.name} · Polaris`;
    return () => {
      document.title = 'Polaris';
    };
  }, [project]);

  if (projects && !project) {
    return (
      <div className="page-message">
        <h1>Project not found</h1>
        <p>It may have been deleted, or it belongs to another user.</p>
        <button type="button" onClick={() => navigate('/')}>
          Back to projects
        </button>
      </div>
    );
  }
  return (
    <WorkspaceProvider projectId={projectId}>
      <div className="project-page">
        <PanelGroup direction={narrow ? 'vertical' : 'horizontal'} autoSaveId={`polaris.split.${narrow ? 'v' : 'h'}`}>
          <Panel defaultSize={narrow ? 50 : 32} minSize={20} className="pane">
            <ChatPanel projectId={projectId} projectName={project?.name ?? ''} />
          </Panel>
          <PanelResizeHandle className="resize-handle" />
          <Panel minSize={30} className="pane">
            <PanelGroup direction="horizontal" autoSaveId="polaris.split.files">
              <Panel defaultSize={narrow ? 32 : 26} minSize={15} className="pane">
                <FileTree />
              </Panel>
              <PanelResizeHandle className="resize-handle" />
              <Panel minSize={30} className="pane">
                <EditorArea />
              </Panel>
            </PanelGroup>
          </Panel>
        </PanelGroup>
      </div>
    </WorkspaceProvider>
  );
}
