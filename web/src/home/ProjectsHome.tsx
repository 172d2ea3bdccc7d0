// Placeholder: replaced by the projects home.
export function ProjectsHome() {
  return <div>Projects</div>;
}
