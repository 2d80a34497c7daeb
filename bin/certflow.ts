// Placeholder until the CLI lands in this session.
console.log('certflow: sandbox simulation not built yet');
