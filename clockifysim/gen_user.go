package clockifysim

// The key owner's own record (GET /user): the owner as a member of the first workspace.
var _ = register("user", &generator{
	records: func(s *Server, _ *workspace, _ map[string]string) (recordSet, *apiError) {
		owner := s.members(s.ws[0])[0]
		return all([]item{{id: owner.id, json: owner.rec}}), nil
	},
})
